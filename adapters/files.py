"""files: a local inbox folder (pull) and outbox folder (push).

Pull takes the files in ``inbox`` that match ``pattern``, oldest name first, but never one
that may still be being written: with ``done_marker`` (e.g. ``.done``) a file is taken only
once ``NAME.done`` exists; otherwise only once it has not changed for ``min_age_seconds``.
After the hub has committed a file it moves to ``processed/``; a file refused as a whole
moves to ``failed/`` with a ``NAME.error.txt`` beside it.  A dropped signed package is
answered with the node's signed receipt in ``receipts/NAME.receipt``.  Push writes a package under a
temporary name and renames it into ``outbox`` (a one-way gateway's drop folder, say), so a
reader never sees half a file.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field

from adapters.drops import MAX_RECEIPT, takeable
from hub.errors import ConfigError, FatalError, InputError, RetryableError
from hub.interfaces import Adapter, AdapterOptions, Batch, PushResult
from hub.package.receipt import drop_receipt_names


class FilesOptions(AdapterOptions):
    inbox: Path | None = None
    outbox: Path | None = None
    pattern: list[str] = Field(
        default_factory=lambda: ["*.xml", "*.json", "*.jsonl", "*.csv", "*.zip", "*.p7m"]
    )
    done_marker: str | None = None  # e.g. ".done": take X once X.done exists
    min_age_seconds: float = Field(default=5.0, ge=0)  # without a marker: unchanged this long
    processed_dir: str = "processed"
    failed_dir: str = "failed"
    format: Literal["xml", "json", "jsonl", "csv", "package"] | None = None
    receipts_dir: str = "receipts"  # signed receipts for dropped packages: NAME.receipt


def printable(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 shown as \\xNN escapes."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def unique_target(folder: Path, name: str) -> Path:
    """``folder/name``, or ``folder/name.<UTC time>`` if a file of that name is there."""
    target = folder / name
    if os.path.lexists(target):
        target = folder / f"{name}.{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    return target


class FilesAdapter(Adapter):
    name = "files"
    Options = FilesOptions
    options: FilesOptions

    def _inbox(self) -> Path:
        if self.options.inbox is None:
            raise ConfigError(f"[sources.{self.context.source}] options.inbox is not set")
        inbox = self.context.path(self.options.inbox)
        if not inbox.is_dir():
            raise FatalError(
                f"inbox {str(inbox)!r} of source {self.context.source!r} is not a folder"
            )
        return inbox

    def ready(self, inbox: Path, now: float | None = None) -> list[Path]:
        """The regular files that may be taken now, in name order (never following a link)."""
        o = self.options
        files = [
            (e.name, e.stat(follow_symlinks=False).st_mtime)
            for e in os.scandir(inbox)
            if e.is_file(follow_symlinks=False)
        ]
        now = time.time() if now is None else now
        names = takeable(files, o.pattern, o.done_marker, o.min_age_seconds, now)
        return [inbox / n for n in names]

    def unfit(self, inbox: Path) -> list[tuple[Path, InputError]]:
        """Entries that are never inputs and would otherwise sit in the inbox for ever: links,
        FIFOs, devices and sockets, and names that are not UTF-8."""
        out = []
        for e in os.scandir(inbox):
            p = inbox / e.name
            shown = printable(e.name)
            if e.is_dir(follow_symlinks=False) or e.name.startswith("."):
                continue
            if shown != e.name:
                why = "its name is not UTF-8; rename it (the hub keeps names as text)"
                out.append((p, InputError(str(inbox / shown), why, code="input.name")))
            elif not e.is_file(follow_symlinks=False):
                kind = "a symbolic link" if e.is_symlink() else "not a regular file"
                why = f"is {kind}; an inbox takes regular files only (no links, FIFOs, devices)"
                out.append((p, InputError(str(p), why, code="input.not-regular")))
        return out

    def pull(self, cursor: str | None) -> Iterator[Batch]:
        inbox = self._inbox()
        for p, refusal in self.unfit(inbox):  # set aside, so they block nothing
            shown = printable(p.name)
            yield Batch(name=shown, origin=str(inbox / shown), path=p, refused=refusal)
        for p in self.ready(inbox):
            yield Batch(
                name=p.name,
                origin=str(p),
                path=p,
                fmt=self.options.format,
                cursor=p.name,
                size=p.stat(follow_symlinks=False).st_size,
            )

    def _move(self, batch: Batch, folder_name: str) -> Path:
        assert batch.path is not None
        folder = batch.path.parent / folder_name
        folder.mkdir(exist_ok=True)
        target = unique_target(folder, batch.path.name)
        os.replace(batch.path, target)
        if self.options.done_marker:
            marker = batch.path.with_name(batch.path.name + self.options.done_marker)
            if marker.exists():
                marker.unlink()
        return target

    def ack(self, batch: Batch) -> None:
        """Move the file to processed/, unless it changed size since it was listed: then
        what was read may not be all of it, so it stays to be taken whole next time."""
        assert batch.path is not None
        now = batch.path.stat(follow_symlinks=False).st_size
        if batch.size is not None and now != batch.size:
            raise RetryableError(
                f"{batch.origin} changed while it was read ({batch.size} bytes when listed, "
                f"{now} now): left in the inbox, the next sync takes it whole (what was read "
                "comes back as duplicates); have the exporter write elsewhere and move the "
                "file in, or set options.done_marker"
            )
        self._move(batch, self.options.processed_dir)

    def reject(self, batch: Batch, reason: str) -> None:
        target = self._move(batch, self.options.failed_dir)
        target.with_name(target.name + ".error.txt").write_text(reason + "\n", "utf-8")

    def reply(self, batch: Batch, name: str, data: bytes) -> str | None:
        assert batch.path is not None
        folder = batch.path.parent / self.options.receipts_dir
        folder.mkdir(exist_ok=True)
        return str(_write_atomic(folder, name, data, replace=True))

    def push(self, name: str, data: bytes) -> PushResult:
        if self.options.outbox is None:
            raise ConfigError(f"[{self.context.source}] options.outbox is not set")
        outbox = self.context.path(self.options.outbox)
        outbox.mkdir(parents=True, exist_ok=True)
        if (outbox / name).exists():
            return PushResult(True, "exists", detail=f"{outbox / name} is there already")
        return PushResult(True, "renamed", detail=str(_write_atomic(outbox, name, data)))

    def status(self, package_id: str, sha256: str) -> bytes | None:
        """The receipt the node that reads ``outbox`` left beside it for a package pushed
        there (``receipts/PACKAGE_ID.receipt``; a refusal by file name and digest), None
        while there is none.  A link or anything but a regular file is not read."""
        if self.options.outbox is None:
            return None
        folder = self.context.path(self.options.outbox) / self.options.receipts_dir
        for name in drop_receipt_names(package_id, f"{package_id}.zip", sha256):
            try:
                fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as exc:
                if exc.errno == errno.ELOOP:  # a link: never followed, never a receipt
                    continue
                raise RetryableError(f"{folder / name}: cannot be read ({exc.strerror})") from exc
            with os.fdopen(fd, "rb") as fh:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    continue
                return fh.read(MAX_RECEIPT)
        return None


def _write_atomic(folder: Path, name: str, data: bytes, replace: bool = False) -> Path:
    """Write ``folder/name`` under a hidden temporary name, then rename it into place, so a
    reader never sees half a file."""
    tmp = folder / f".{name}.part"
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    target = folder / name
    if replace:
        os.replace(tmp, target)
    else:
        try:
            os.link(tmp, target)  # fails rather than overwrite a file that appeared meanwhile
        finally:
            tmp.unlink()
    return target
