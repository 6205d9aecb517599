"""A forwarding target's state in the store, shared by every hub process.

The lease lets one process at a time build and push a target's packages (an UPDATE that
takes it only when nobody holds a live one: atomic on SQLite and PostgreSQL alike; a process
that dies leaves a lease that simply runs out).  The circuit breaker counts the target's
failed packages in a row; at ``breaker_failures`` it opens for ``breaker_minutes``, and the
next pass after that is one try (half open): a success closes it, a failure opens it again.
Being in the database, the breaker is the same for every process, not one process's memory.
The target's row also keeps the watermark of runs looked at (``prune_runs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, exists, func, or_, select, update

from hub.forward.outbox import FRUN, ITEM, RUN
from hub.sections import ForwardSection
from hub.store import audit
from hub.store import lease as lease_of
from hub.store.engine import Store, utc
from hub.store.models import ForwardTarget, table
from hub.store.upsert import insert_ignore

T = table(ForwardTarget)
LEASE = timedelta(minutes=10)  # renewed for each package; a pass never holds it longer


@dataclass(frozen=True)
class TargetState:
    name: str
    failures: int
    open_until: datetime | None
    last_error: str | None
    last_attempt: datetime | None
    last_success: datetime | None
    claimed_by: str | None

    def open_at(self, now: datetime) -> bool:
        return self.open_until is not None and self.open_until > now


def state(store: Store, name: str) -> TargetState:
    with store.read() as conn:
        row = conn.execute(select(T).where(T.c.name == name)).first()
    if row is None:
        return TargetState(name, 0, None, None, None, None, None)
    return TargetState(
        name,
        row.failures,
        utc(row.open_until),
        row.last_error,
        utc(row.last_attempt),
        utc(row.last_success),
        row.claimed_by,
    )


def claim(store: Store, name: str, who: str, now: datetime, lease: timedelta = LEASE) -> bool:
    """Take the target's lease if nobody holds a live one, or renew the one ``who`` holds."""
    with store.write() as conn:
        insert_ignore(conn, T, [{"name": name, "failures": 0}])
    return lease_of.take(store, T, name, who, now, lease)


def release(store: Store, name: str, who: str) -> None:
    lease_of.give_back(store, T, name, who)


def record(
    store: Store, t: ForwardSection, name: str, ok: bool, now: datetime, error: str | None
) -> TargetState:
    """One package's outcome: a success closes the breaker; a failure counts, and opens it
    at the threshold (again at once when it was half open)."""
    with store.write() as conn:
        if ok:
            conn.execute(
                update(T)
                .where(T.c.name == name)
                .values(
                    failures=0, open_until=None, last_error=None, last_attempt=now, last_success=now
                )
            )
        else:
            failures = (
                int(conn.execute(select(T.c.failures).where(T.c.name == name)).scalar() or 0) + 1
            )
            shut = failures >= t.breaker_failures
            conn.execute(
                update(T)
                .where(T.c.name == name)
                .values(
                    failures=failures,
                    open_until=now + timedelta(minutes=t.breaker_minutes) if shut else None,
                    last_error=error,
                    last_attempt=now,
                )
            )
    return state(store, name)


SETTLED = timedelta(hours=1)  # a run started this long ago has its id's place settled


def prune_runs(conn: Connection, name: str, now: datetime) -> int:
    """Move target ``name``'s watermark up over the runs it has looked at and drop their
    forward_run rows (there is one per run per target; a node running for years would keep
    them all).  The watermark stops below the first run not looked at or still running, and
    at the newest run started at least ``SETTLED`` ago: a run whose id was taken earlier but
    whose row is not visible yet (another process's uncommitted insert) is never passed
    over.  Gaps in the ids (an insert rolled back) are passed once that old.  In the
    caller's transaction; returns the new watermark."""
    old = int(conn.execute(select(T.c.runs_through).where(T.c.name == name)).scalar() or 0)
    seen = exists().where(FRUN.c.target == name, FRUN.c.run_id == RUN.c.id)
    gap = conn.execute(
        select(func.min(RUN.c.id)).where(RUN.c.id > old, or_(RUN.c.status == "running", ~seen))
    ).scalar()
    settled = conn.execute(
        select(func.max(RUN.c.id)).where(RUN.c.id > old, RUN.c.started_at <= now - SETTLED)
    ).scalar()
    new = old if settled is None else int(settled)
    if gap is not None:
        new = min(new, int(gap) - 1)
    if new > old:
        conn.execute(update(T).where(T.c.name == name).values(runs_through=new))
        conn.execute(FRUN.delete().where(FRUN.c.target == name, FRUN.c.run_id <= new))
    return max(new, old)


def forget(store: Store, name: str, actor: str) -> dict[str, int]:
    """Forget what target ``name`` was sent: every current record goes to it again at the
    next pass (as an add; what it holds already it answers as a duplicate).  For a target
    that lost its data, or after a configuration error made it refuse packages.  The
    breaker closes; packages pending or dead stay (redrive or leave them).  Audited."""
    with store.write() as conn:
        items = conn.execute(ITEM.delete().where(ITEM.c.target == name)).rowcount
        runs = conn.execute(FRUN.delete().where(FRUN.c.target == name)).rowcount
        through = conn.execute(select(T.c.runs_through).where(T.c.name == name)).scalar() or 0
        below = conn.execute(select(func.count()).where(RUN.c.id <= through)).scalar() or 0
        conn.execute(
            update(T).where(T.c.name == name).values(failures=0, open_until=None, runs_through=0)
        )
        done = {"records_forgotten": int(items or 0), "runs_forgotten": int(runs or 0) + below}
        audit.append(conn, actor, "forward.reset", name, done)
    return done
