"""The interval kind: days from one date to another, within a record or across two records
linked by a code, against min_days / max_days, as of the event's date."""

from __future__ import annotations

import datetime as dt
import functools
from string import Template

import chinese_calendar

from hub.supervise.pack import Rule
from hub.supervise.pairs import each_pair
from hub.supervise.reading import Looked, Rec, day_of, region_of
from hub.supervise.seen import Seen


def judge(rule: Rule, pack: str, start: Rec, end: Rec, link: str | None) -> Looked | None:
    assert rule.start is not None and rule.end is not None
    a, b = start.content.get(rule.start.field), end.content.get(rule.end.field)
    da, db = day_of(a), day_of(b)
    if da is None or db is None or not rule.in_force.covers(db):
        return None  # nothing to judge: a date is missing, or the rule was not in force
    lo, hi = rule.limits(region_of(end) or region_of(start))
    days = working_days(da, db) if rule.working_days else (db - da).days
    if days is None:
        return None  # the official calendar of that year is not published yet
    broken = (lo is not None and days < lo) or (hi is not None and days > hi)
    looked = Looked(rule, pack, start, end, link, broken, days, event_day=db)
    if broken:
        looked.evidence = {
            "start": {"dataset": start.dataset, "key": start.key, "field": rule.start.field,
                      "value": a, "source": start.source},
            "end": {"dataset": end.dataset, "key": end.key, "field": rule.end.field,
                    "value": b, "source": end.source},
            "days": days, "min_days": lo, "max_days": hi, "link": link, "law": rule.law,
        }  # fmt: skip
        looked.message = Template(rule.message).safe_substitute(
            days=days, start=f"{da:%Y-%m-%d}", end=f"{db:%Y-%m-%d}", min_days=lo, max_days=hi,
            start_record=f"{start.dataset} {start.key}", end_record=f"{end.dataset} {end.key}",
            link=link or "",
        )  # fmt: skip
    return looked


@functools.lru_cache(maxsize=8192)  # a night's complaints share their dates
def working_days(a: dt.date, b: dt.date) -> int | None:
    """Working days after ``a`` up to ``b`` (the Nth working day after a date is day N), by
    China's official calendar with its make-up working days; None for a year it lacks."""
    try:
        if b <= a:
            return -len(chinese_calendar.get_workdays(b, a - dt.timedelta(days=1)))
        return len(chinese_calendar.get_workdays(a + dt.timedelta(days=1), b))
    except NotImplementedError:
        return None


def interval(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    assert rule.start is not None and rule.end is not None
    # within one record, or from each touched record on either side to its partners
    return each_pair(seen, rule.start, rule.end, lambda s, e, v: judge(rule, pack, s, e, v))
