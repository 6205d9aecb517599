"""Raw input bytes, content-addressed on disk (like git objects): ``raw/ab/cdef…``.

Bytes are written to a temporary file, flushed to disk, then renamed into place, so a
crash never leaves a partial object under a real name.  Writing the same bytes twice is a
no-op.  Stored before anything else is done with an input: they are the evidence, and
quarantined records are replayed from them.

A node with ``[encryption] at_rest`` keeps new objects sealed (``raw/ab/cdef….p7m``, CMS
that OpenSSL opens with the node's key); the address stays the SHA-256 of the plaintext,
and reading a sealed object to its end checks the plaintext against it.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from sqlalchemy import Connection

from hub.errors import FatalError

CHUNK = 1 << 20
STALE_S = 3600  # a temporary file untouched this long belongs to a killed writer
SEALED = ".p7m"


class Sink(Protocol):
    def write(self, block: bytes) -> object: ...
    def close(self) -> None: ...


class Sealer(Protocol):
    """Seals objects as they are written, opens them as they are read (hub.package)."""

    @property
    def seal_to(self) -> tuple[object, ...]: ...  # empty: write plain, open sealed ones

    def writer(self, out: BinaryIO) -> Sink: ...
    def reader(self, fh: BinaryIO, origin: str) -> BinaryIO: ...


class RawStore:
    def __init__(self, root: Path, sealer: Sealer | None = None) -> None:
        self.root, self.sealer = root, sealer
        self._swept = False

    def _sweep(self) -> None:
        """Remove the temporary files of writers that were killed (untouched for STALE_S);
        once per store object, before its first write.  A file still being written is
        touched as its blocks arrive, so it is never this old."""
        self._swept = True
        cutoff = time.time() - STALE_S
        for p in self.root.glob(".incoming-*"):
            with contextlib.suppress(OSError):  # another process removed it first
                if p.stat().st_mtime < cutoff:
                    p.unlink()

    def path(self, sha256: str) -> Path:
        """Where the object is kept plain (a sealed one is this name + ``.p7m``)."""
        return self.root / sha256[:2] / sha256[2:]

    def _sealed(self, sha256: str) -> Path:
        return self.root / sha256[:2] / (sha256[2:] + SEALED)

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file() or self._sealed(sha256).is_file()

    def put_stream(self, stream: BinaryIO, limit: int | None = None) -> tuple[str, int]:
        """Copy a stream into the store; return (sha256, size)."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self._swept:
            self._sweep()
        h, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        sealing = self.sealer is not None and bool(self.sealer.seal_to)
        try:
            with os.fdopen(fd, "wb") as out:
                sink: Sink = self.sealer.writer(out) if self.sealer and sealing else out
                while block := stream.read(CHUNK):
                    size += len(block)
                    if limit is not None and size > limit:
                        raise FatalError(f"input is over the limit of {limit} bytes")
                    h.update(block)
                    sink.write(block)
                if sink is not out:
                    sink.close()  # the envelope's end; the file stays open
                out.flush()
                os.fsync(out.fileno())
            digest = h.hexdigest()
            final = self._sealed(digest) if sealing else self.path(digest)
            if self.has(digest):
                os.unlink(tmp)
            else:
                final.parent.mkdir(exist_ok=True)
                os.replace(tmp, final)
            return digest, size
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def open(self, sha256: str) -> BinaryIO:
        sealed = self._sealed(sha256)
        if not sealed.is_file():
            return self.path(sha256).open("rb")
        if self.sealer is None:
            raise FatalError(
                f"{sealed} is sealed and this node has no [encryption] key to open it: set "
                "[encryption] cert and key (and retired keys) as when it was written"
            )
        fh = sealed.open("rb")
        try:
            inner = self.sealer.reader(fh, str(sealed))
        except BaseException:
            fh.close()
            raise
        return io.BufferedReader(_Checked(inner, sha256, str(sealed)), CHUNK)


class _Checked(io.RawIOBase):
    """Reads through, and at the end checks the bytes against their address."""

    def __init__(self, inner: BinaryIO, sha256: str, origin: str) -> None:
        self.inner, self.sha256, self.origin, self.h = inner, sha256, origin, hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(b))
        if not data:
            if self.h.hexdigest() != self.sha256:
                raise FatalError(
                    f"{self.origin}: the plaintext does not match its address (SHA-256 "
                    f"{self.h.hexdigest()}); the object was altered: restore it from a backup"
                )
            return 0
        self.h.update(data)
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


def record_raw(
    conn: Connection, sha: str, size: int, media_type: str, origin: str, now: datetime
) -> None:
    """The ``raw_batch`` row of bytes kept in the raw store (once per content: a re-sent
    batch keeps its first row)."""
    from hub.store.models import RawBatch, table  # noqa: PLC0415  (models load with the store)
    from hub.store.upsert import insert_ignore  # noqa: PLC0415

    row = {"sha256": sha, "size": size, "media_type": media_type, "origin": origin[:1000]}
    insert_ignore(conn, table(RawBatch), [{**row, "first_seen": now}])
