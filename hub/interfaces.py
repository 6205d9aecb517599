"""The adapter contract (design §2 step 1 and §7): how the hub talks to the systems around it.

An adapter is found through the ``hub.adapters`` entry-point group by its short name and is
built from its validated ``Options`` and an ``AdapterContext``.  It may *pull* (yield raw
batches after a cursor), *push* (deliver a package upstream) or both.  The hub stores and
commits each pulled batch, then calls ``ack`` (the remote file may now move to ``done/``) or
``reject`` (the input was refused as a whole; the raw bytes are kept as evidence).  A batch
is acknowledged only after its data and the cursor it carries are committed together.

Errors: an adapter raises ``RetryableError`` for a transient fault (network, timeout, busy
peer), ``FatalError`` for one that will not heal by itself (host key changed, login refused)
and ``ConfigError`` for wrong options, each translated ``from`` the library's own error.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, ClassVar

from pydantic import BaseModel, ConfigDict

from hub.errors import InputError, UsageError

if TYPE_CHECKING:  # the contract names it; adapters get it from the sync
    from hub.ingest.outcome import Verdict


class AdapterOptions(BaseModel):
    """Base of every adapter's options: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


@dataclass(frozen=True)
class AdapterContext:
    source: str  # the source's (or upstream's) name in the node configuration
    base_dir: Path  # relative paths in the options are from here (the config file's folder)
    work_dir: Path  # the adapter's own scratch folder (downloads in progress, spools)

    def path(self, p: Path | str) -> Path:
        p = Path(p)
        return p if p.is_absolute() else Path(os.path.normpath(self.base_dir / p))


@dataclass
class Batch:
    """One raw input an adapter pulled."""

    name: str  # the input's own name: a file name, or a table for sql (mappings match on it)
    origin: str  # where it came from, e.g. sftp://county@10.0.0.5:22/out/XM_20240301.csv
    path: Path | None = None  # a local file with the bytes (downloaded, spooled) ...
    data: bytes | None = None  # ... or the bytes themselves
    fmt: str | None = None  # xml, json, jsonl, csv, package; None: from the name or mapping
    cursor: str | None = None  # the source's cursor once this batch is committed
    size: int | None = None
    handle: Any = field(default=None, repr=False)  # the adapter's own bookkeeping
    # set when the adapter already knows the input must be refused whole (a download whose
    # digest never matched): the hub rejects it without ingesting; it stays at the source
    refused: InputError | None = None

    def open(self) -> BinaryIO:
        """The bytes; a local file is opened without following a link and must be a regular
        file (a link, FIFO or device swapped in after the adapter looked is refused)."""
        if self.path is not None:
            try:
                fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except OSError as exc:
                raise InputError(
                    self.origin, f"cannot be opened as a regular file ({exc.strerror})"
                ) from exc
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                raise InputError(self.origin, "is not a regular file", code="input.not-regular")
            return os.fdopen(fd, "rb")
        return io.BytesIO(self.data or b"")

    def read(self) -> bytes:
        with self.open() as fh:
            return fh.read()


@dataclass(frozen=True)
class LineAnswer:
    """A peer's word on one record of a package, from a peer that answers record by record
    without a signed receipt (Fujian's UploadData_G_V4)."""

    dataset: str
    line: int  # 1-based, in the package's data file of the data set
    accepted: bool
    message: str = ""


@dataclass(frozen=True)
class PushResult:
    """What the peer said to a pushed package."""

    delivered: bool  # the peer took it (a receipt may still reject records)
    status: str  # e.g. "200", "422 refused", "renamed"
    receipt: bytes | None = None  # the peer's signed receipt, kept by the caller
    detail: str = ""
    attempts: int = 1
    answers: list[LineAnswer] | None = None  # per record, when there is no receipt


class Adapter:
    """Base class of adapters.  Subclasses set ``name`` and ``Options`` and implement
    ``pull`` and/or ``push``; ``ack``, ``reject`` and ``close`` default to doing nothing."""

    name: ClassVar[str]
    Options: ClassVar[type[AdapterOptions]]
    # True when the batches form one ordered stream behind a cursor (sql, http pull): a
    # batch refused as a whole then stops the run, so the cursor never passes over it
    ordered: ClassVar[bool] = False

    def __init__(self, options: AdapterOptions, context: AdapterContext) -> None:
        self.options = options
        self.context = context

    def pull(self, cursor: str | None) -> Iterator[Batch]:
        raise UsageError(f"the {self.name} adapter cannot pull; it only pushes")

    def ack(self, batch: Batch) -> None:
        """The batch and its cursor are committed: the source may forget it."""

    def reject(self, batch: Batch, reason: str) -> None:
        """The batch was refused as a whole (unreadable, wrong shape); its raw bytes are kept."""

    def reply(self, batch: Batch, name: str, data: bytes) -> str | None:
        """Leave ``data`` (a signed receipt) for the peer that dropped ``batch``, under
        ``name``; called after the commit and before ``ack``/``reject``.  Returns where it was
        left, or None if this adapter has nowhere to leave it (the receipt is still kept
        on the package row in the store)."""
        return None

    def verdicts(self, batch: Batch, verdicts: list[Verdict]) -> str | None:
        """Leave each record's verdict of ``batch`` (not a package: those get a signed
        receipt through ``reply``) where the source system reads them; called after the
        commit and before ``ack``.  Returns where, or None if this adapter has nowhere (the
        verdicts stay in the store: `hub runs show`, the API)."""
        return None

    def push(self, name: str, data: bytes) -> PushResult:
        raise UsageError(f"the {self.name} adapter cannot push; it only pulls")

    def status(self, package_id: str, sha256: str) -> bytes | None:
        """The peer's receipt of a pushed package as things stand now (a target's ``held``
        lines may have been placed since); None when the peer cannot say."""
        return None

    def close(self) -> None:
        """Release connections and scratch files."""

    def __enter__(self) -> Adapter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
