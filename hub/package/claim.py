"""One package, one receipt: who receives a package id, and what copies arriving meanwhile do.

The first receiver writes the package row (status ``receiving``) with a lease
(``claimed_until``) and renews it as it goes.  A copy of the same bytes that arrives while
the lease holds waits for the first receiver and answers with its receipt, byte for byte; a
row whose lease ran out belongs to a receiver that died, and the copy resumes it, as it does
at once when the holder was a process of this machine that no longer runs (a SIGKILL, a
crash: ``hub.store.lease.gone``).  Threads
of one process also queue on a lock per package id, so they do not even poll.
"""

from __future__ import annotations

import hashlib
import io
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from hub.errors import RetryableError
from hub.package.verify import Verified
from hub.store.blobs import record_raw
from hub.store.engine import Store, utc
from hub.store.lease import gone, holder_id
from hub.store.models import Package, table

PKG = table(Package)
LEASE = timedelta(minutes=2)  # renewed every RENEW while records are being taken
RENEW = 30.0  # seconds
WAIT_SECONDS = 300.0  # how long a copy waits for the first receiver before answering 503
_POLL = 0.2

_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def local_lock(package_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(package_id, threading.Lock())


@dataclass(frozen=True)
class Claim:
    """``receipt`` set: answer with it (received before, or by the receiver we waited for);
    else receive into row ``row_id`` (None: a new row) — a dead receiver's, resumed.
    ``sha256``: the archive the row was opened for (another one is a replay)."""

    receipt: bytes | None = None
    row_id: int | None = None
    sha256: str | None = None


def claim(store: Store, package_id: str, wait: float = WAIT_SECONDS) -> Claim:
    """Decide who receives ``package_id``; blocks while another receiver holds the lease."""
    deadline = time.monotonic() + wait
    while True:
        with store.write() as conn:
            row: Any = conn.execute(
                select(
                    PKG.c.id,
                    PKG.c.status,
                    PKG.c.receipt,
                    PKG.c.claimed_until,
                    PKG.c.claimed_by,
                    PKG.c.raw_sha256,
                ).where(PKG.c.package_id == package_id)
            ).first()
            if row is None:
                return Claim()
            if row.status == "done" and row.receipt is not None:
                return Claim(receipt=row.receipt, row_id=row.id, sha256=row.raw_sha256)
            clock = datetime.now(UTC)
            lease = utc(row.claimed_until)
            if lease is None or lease <= clock or gone(row.claimed_by):  # its receiver died
                conn.execute(
                    update(PKG)
                    .where(PKG.c.id == row.id)
                    .values(claimed_until=clock + LEASE, claimed_by=holder_id())
                )
                return Claim(row_id=row.id, sha256=row.raw_sha256)
        if time.monotonic() > deadline:
            raise RetryableError(f"package {package_id} is still being received; try again")
        time.sleep(_POLL)


def lease(store: Store, row_id: int, until: datetime | None) -> None:
    """Renew the lease (``until``), or give it up (None: a failed receiver, so that the next
    copy takes over at once)."""
    with store.write() as conn:
        conn.execute(update(PKG).where(PKG.c.id == row_id).values(claimed_until=until))


class Renewer:
    """An on_progress hook that renews the lease every RENEW seconds while records flow."""

    def __init__(self, store: Store, row_id: int, then: Any = None) -> None:
        self.store, self.row_id, self.then = store, row_id, then
        self.last = time.monotonic()

    def __call__(self, n: int) -> None:
        if time.monotonic() - self.last > RENEW:
            lease(self.store, self.row_id, datetime.now(UTC) + LEASE)
            self.last = time.monotonic()
        if self.then is not None:
            self.then(n)


def open_row(
    store: Store, data: bytes, v: Verified, origin: str, now: datetime, source: str
) -> int | None:
    """Keep the archive's bytes and write the package row (status receiving); its id."""
    m = v.manifest
    sha, size = store.raw.put_stream(io.BytesIO(data))
    try:
        with store.write() as conn:
            record_raw(conn, sha, size, "package", origin, now)
            return int(
                conn.execute(
                    PKG.insert().returning(PKG.c.id),
                    {
                        "package_id": m.package_id,
                        "sender": m.sender,
                        "receiver": m.receiver,
                        "raw_sha256": sha,
                        "manifest_sha256": hashlib.sha256(v.manifest_bytes).hexdigest(),
                        "signer": v.signed.signer.name[:500],
                        "status": "receiving",
                        "received_at": now,
                        "source": source[:100],
                        "sequence": m.sequence,
                        "claimed_until": datetime.now(UTC) + LEASE,
                        "claimed_by": holder_id(),
                    },
                ).scalar_one()
            )
    except IntegrityError:  # another receiver opened the same package id just now
        return None
