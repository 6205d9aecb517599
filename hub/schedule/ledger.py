"""The store as the schedules' ledger: claims (one run of a schedule at a time, across every
process on the database), events, and the state each tick leaves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from hub.store import audit
from hub.store import lease as lease_of
from hub.store.engine import Store, utc
from hub.store.models import ScheduleEvent, ScheduleState, table

STATE, EVENT = table(ScheduleState), table(ScheduleEvent)
LEASE = timedelta(minutes=10)  # a run renews nothing: a sync that outlives it may overlap


def owner() -> str:
    """Who claims: host, process and one scheduler in it."""
    return lease_of.holder_id()


def ensure(store: Store, names: list[str], now: datetime) -> None:
    """A state row for every configured schedule (first_seen starts a new source's grace)."""
    with store.write() as conn:
        have = set(conn.execute(select(STATE.c.name)).scalars())
        new = [
            {"name": n, "first_seen": now, "paused": False, "failures": 0}
            for n in names
            if n not in have
        ]
        if new:
            conn.execute(insert(STATE), new)


def state(conn: Connection, name: str) -> Any:
    row = conn.execute(select(STATE).where(STATE.c.name == name)).one_or_none()
    if row is None:
        return None
    d = dict(row._mapping)
    for k in ("first_seen", "last_tick", "last_run", "last_success", "claimed_until"):
        d[k] = utc(d[k])
    return d


def claim(store: Store, name: str, who: str, now: datetime, lease: timedelta = LEASE) -> bool:
    """Take the schedule's claim if nobody holds a live one (one UPDATE: atomic), or renew
    the claim ``who`` holds."""
    return lease_of.take(store, STATE, name, who, now, lease)


def release(store: Store, name: str, who: str) -> None:
    lease_of.give_back(store, STATE, name, who)


def event(
    conn: Connection, name: str, kind: str, tick: datetime | None = None, **detail: Any
) -> None:
    conn.execute(
        insert(EVENT),
        {
            "name": name,
            "at": datetime.now(UTC),
            "kind": kind,
            "tick": tick,
            "detail": orjson.dumps(detail, default=str).decode() if detail else "",
        },
    )


def set_state(conn: Connection, name: str, **values: Any) -> None:
    conn.execute(update(STATE).where(STATE.c.name == name).values(**values))


def pause(store: Store, name: str, paused: bool, reason: str, actor: str) -> None:
    """Pause or resume by hand (audited); resuming forgets the failures in a row."""
    with store.write() as conn:
        values: dict[str, Any] = {"paused": paused, "paused_reason": reason if paused else None}
        if not paused:
            values["failures"] = 0
        set_state(conn, name, **values)
        kind = "paused" if paused else "resumed"
        event(conn, name, kind, by=actor, reason=reason)
        audit.append(conn, actor, f"schedule.{kind[:-1]}", name, {"reason": reason})


def events(conn: Connection, name: str | None, limit: int) -> list[dict[str, Any]]:
    q = select(EVENT).order_by(EVENT.c.id.desc()).limit(limit)
    if name:
        q = q.where(EVENT.c.name == name)
    return [dict(r._mapping) for r in conn.execute(q)]
