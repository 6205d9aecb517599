"""When a schedule fires, what it missed, and how fresh its source is: pure functions over
APScheduler 3's triggers (the scheduler itself only says "now")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

if TYPE_CHECKING:
    from hub.config import ScheduleSection

MAX_MISSED = 1000  # ticks listed one by one; beyond that, one event says how many more


def make_trigger(s: ScheduleSection, anchor: datetime | None = None) -> Any:
    """The trigger of a schedule; an interval counts from ``anchor`` (its last tick)."""
    from hub.sections import every_seconds  # noqa: PLC0415

    if s.cron is not None:  # checked when the configuration loaded
        return CronTrigger.from_crontab(s.cron, timezone=s.timezone)
    start = anchor or datetime.now(UTC)
    return IntervalTrigger(seconds=every_seconds(s.every or ""), start_date=start, timezone=UTC)


def ticks_between(trigger: Any, after: datetime, until: datetime) -> list[datetime]:
    """Fire times strictly after ``after`` and not after ``until`` (at most MAX_MISSED + 1)."""
    out: list[datetime] = []
    prev = after
    while len(out) <= MAX_MISSED:
        nxt = trigger.get_next_fire_time(prev, prev + timedelta(microseconds=1))
        if nxt is None or nxt > until:
            break
        out.append(nxt)
        prev = nxt
    return out


def period(trigger: Any, around: datetime) -> timedelta:
    """The time between the two fire times that follow ``around``."""
    a = trigger.get_next_fire_time(None, around)
    b = trigger.get_next_fire_time(a, a + timedelta(microseconds=1)) if a else None
    return (b - a) if a and b else timedelta(days=1)


def freshness(
    last_success: datetime | None, first_seen: datetime, per: timedelta, now: datetime
) -> str:
    """ok; late after one missed period; failing after two; new while a source that never
    succeeded is within its grace (two periods from when the schedule first appeared)."""
    since = last_success or first_seen
    age = now - since
    if last_success is None and age <= 2 * per:
        return "new"
    if age <= per * 1.1:
        return "ok"
    return "late" if age <= per * 2.1 else "failing"
