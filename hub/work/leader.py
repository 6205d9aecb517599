"""One leader among the hub processes on a database: a lease row with an epoch.

Taking the lease is one UPDATE, judged by the *database's* clock (``CURRENT_TIMESTAMP``), not
the processes' own: it matches when the lease has run out or is already the caller's, and a
new holder gets epoch + 1.  A holder that is a process of this machine no longer running
(``hub.store.lease.gone``: a `hub serve` killed and started again) is taken over at once.
The epoch is a fencing token: a leader that stalled (a long GC pause, a suspended VM) and
lost its lease finds, at its next check, that the epoch moved on, and stops leading; work
it still starts is refused by ``still_leads``.  Session advisory
locks are not used: behind a connection pool a returned connection keeps such a lock for
its next user, and a recycled one drops it without telling anybody.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, or_, select, update

from hub.store.dbclock import db_now
from hub.store.engine import Store, utc
from hub.store.lease import gone
from hub.store.models import Leader, table
from hub.store.upsert import insert_ignore

L = table(Leader)


def acquire(store: Store, name: str, who: str, seconds: float) -> int | None:
    """Lead ``name`` for ``seconds`` (or renew): the epoch held, or None if another leads."""
    with store.write() as conn:
        insert_ignore(conn, L, [{"name": name, "epoch": 0}])
        mine = conn.execute(select(L.c.holder, L.c.expires_at).where(L.c.name == name)).one()
        renewing = mine.holder == who
        free = or_(L.c.holder == who, L.c.expires_at.is_(None), L.c.expires_at < db_now(conn))
        if not renewing and gone(mine.holder):  # a dead process of this machine: at once
            free = or_(free, L.c.holder == mine.holder)
        got = conn.execute(
            update(L)
            .where(L.c.name == name, free)
            .values(
                holder=who,
                expires_at=db_now(conn, seconds),
                epoch=L.c.epoch if renewing else L.c.epoch + 1,
            )
        )
        if not got.rowcount:
            return None
        return int(conn.execute(select(L.c.epoch).where(L.c.name == name)).scalar_one())


def still_leads(conn: Connection, name: str, who: str, epoch: int) -> bool:
    """The fence: ``who`` holds ``name`` at ``epoch`` and its lease has not run out."""
    row = conn.execute(
        select(L.c.holder, L.c.epoch).where(L.c.name == name, L.c.expires_at >= db_now(conn))
    ).first()
    return row is not None and row.holder == who and row.epoch == epoch


def resign(store: Store, name: str, who: str) -> None:
    with store.write() as conn:
        conn.execute(update(L).where(L.c.name == name, L.c.holder == who).values(expires_at=None))


def current(store: Store, name: str) -> tuple[str | None, int, datetime | None]:
    with store.read() as conn:
        row = conn.execute(select(L).where(L.c.name == name)).first()
    if row is None:
        return None, 0, None
    return row.holder, int(row.epoch), utc(row.expires_at)
