"""Raw input bytes, content-addressed on disk (like git objects): ``raw/ab/cdef…``.

Bytes are written to a temporary file, flushed to disk, then renamed into place, so a
crash never leaves a partial object under a real name.  Writing the same bytes twice is a
no-op.  Stored before anything else is done with an input: they are the evidence, and
quarantined records are replayed from them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Connection

from hub.errors import FatalError

CHUNK = 1 << 20


class RawStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put_stream(self, stream: BinaryIO, limit: int | None = None) -> tuple[str, int]:
        """Copy a stream into the store; return (sha256, size)."""
        self.root.mkdir(parents=True, exist_ok=True)
        h, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out:
                while block := stream.read(CHUNK):
                    size += len(block)
                    if limit is not None and size > limit:
                        raise FatalError(f"input is over the limit of {limit} bytes")
                    h.update(block)
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
            digest = h.hexdigest()
            final = self.path(digest)
            if final.exists():
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
        return self.path(sha256).open("rb")


def record_raw(
    conn: Connection, sha: str, size: int, media_type: str, origin: str, now: datetime
) -> None:
    """The ``raw_batch`` row of bytes kept in the raw store (once per content: a re-sent
    batch keeps its first row)."""
    from hub.store.models import RawBatch, table  # noqa: PLC0415  (models load with the store)
    from hub.store.upsert import insert_ignore  # noqa: PLC0415

    row = {"sha256": sha, "size": size, "media_type": media_type, "origin": origin[:1000]}
    insert_ignore(conn, table(RawBatch), [{**row, "first_seen": now}])
