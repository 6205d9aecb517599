"""The work queue several hub processes share: batches to ingest, each taken by one worker.

A batch is enqueued with its raw bytes already in the raw store (evidence first).  A worker
claims the oldest ready item, or one whose claim ran out (its worker died): on PostgreSQL
with ``SELECT … FOR UPDATE SKIP LOCKED`` (workers never wait on each other's rows), on
SQLite in a writing transaction (one writer at a time makes it atomic).  The claim is a
lease, by the database's clock, renewed as records are committed; a worker killed mid-batch
leaves a lease that runs out (or, seen dead by a worker of the same machine, is taken over
at once: ``hub.store.lease.gone``), and the next worker ingests the batch again: what the first
committed comes back as duplicates, so every record is stored once.  The dead worker's run
is marked interrupted.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, func, or_, select, update

from hub.store.dbclock import db_now
from hub.store.engine import Store
from hub.store.lease import gone
from hub.store.models import SyncRun, WorkItem, table

W, RUN = table(WorkItem), table(SyncRun)
MAX_ATTEMPTS = 5  # a batch whose workers keep dying is failed, not retried for ever


@dataclass(frozen=True)
class Item:
    id: int
    source: str
    name: str
    raw_sha256: str
    fmt: str | None
    attempts: int

    @property
    def origin(self) -> str:
        return f"queue:{self.id}:{self.name}"


def enqueue(store: Store, data: bytes, source: str, name: str, fmt: str | None = None) -> int:
    sha, _ = store.raw.put_stream(io.BytesIO(data))
    with store.write() as conn:
        return int(
            conn.execute(
                W.insert().returning(W.c.id),
                {
                    "source": source,
                    "name": name[:500],
                    "raw_sha256": sha,
                    "fmt": fmt,
                    "status": "ready",
                    "attempts": 0,
                    "created_at": datetime.now(UTC),
                },
            ).scalar_one()
        )


def _orphan(conn: Connection) -> Row[Any] | None:
    """A running item whose worker, a process of this machine, is gone (killed, crashed):
    taken over now rather than when its claim runs out (hub.store.lease.gone)."""
    q = select(W).where(W.c.status == "running").order_by(W.c.id)
    if conn.dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return next((r for r in conn.execute(q) if gone(r.claimed_by)), None)


def claim(store: Store, who: str, lease: timedelta) -> Item | None:
    """The oldest item nobody works on (ready, or its worker's claim ran out), now ``who``'s."""
    now = datetime.now(UTC)
    with store.write() as conn:
        q = (
            select(W)
            .where(
                or_(
                    W.c.status == "ready",
                    (W.c.status == "running") & (W.c.claimed_until < db_now(conn)),
                )
            )
            .order_by(W.c.id)
            .limit(1)
        )
        if conn.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        row = conn.execute(q).first() or _orphan(conn)
        if row is None:
            return None
        if row.status == "running":  # its worker died: what it left running was interrupted
            conn.execute(
                update(RUN)
                .where(RUN.c.status == "running", RUN.c.origin == f"queue:{row.id}:{row.name}")
                .values(
                    status="interrupted", finished_at=now, error=f"worker {row.claimed_by} died"
                )
            )
        failed = row.attempts + 1 > MAX_ATTEMPTS
        conn.execute(
            update(W)
            .where(W.c.id == row.id)
            .values(
                status="failed" if failed else "running",
                claimed_by=None if failed else who,
                claimed_until=None if failed else db_now(conn, lease.total_seconds()),
                attempts=row.attempts + 1,
                error=f"{MAX_ATTEMPTS} workers died on it" if failed else None,
            )
        )
    if failed:
        return claim(store, who, lease)
    return Item(row.id, row.source, row.name, row.raw_sha256, row.fmt, row.attempts + 1)


def renew(store: Store, item: Item, who: str, lease: timedelta) -> bool:
    with store.write() as conn:
        got = conn.execute(
            update(W)
            .where(W.c.id == item.id, W.c.claimed_by == who, W.c.status == "running")
            .values(claimed_until=db_now(conn, lease.total_seconds()))
        )
        return bool(got.rowcount)


def finish(store: Store, item: Item, who: str, run_id: int | None, error: str | None) -> None:
    with store.write() as conn:
        conn.execute(
            update(W)
            .where(W.c.id == item.id, W.c.claimed_by == who)
            .values(
                status="failed" if error else "done",
                run_id=run_id,
                error=error,
                claimed_until=None,
                done_at=datetime.now(UTC),
            )
        )


def counts(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return {
            str(s): int(n)
            for s, n in conn.execute(select(W.c.status, func.count()).group_by(W.c.status))
        }


def items(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [
            dict(r._mapping) for r in conn.execute(select(W).order_by(W.c.id.desc()).limit(limit))
        ]
