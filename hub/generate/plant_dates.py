"""Dates of planted patterns: shifted by calendar or working days, in the layout of the
value they replace."""

from __future__ import annotations

import datetime as dt

import chinese_calendar


def _day(value: str) -> dt.date:
    return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))


def _at(day: dt.date, like: str) -> str:
    """A date in the layout of ``like`` (yyyyMMdd, …HHmm or …HHmmss), at noon."""
    return (f"{day:%Y%m%d}" + "120000")[: len(like)]


def _shift(value: str, days: int) -> str:
    return _at(_day(value) + dt.timedelta(days=days), value)


def _workdays(value: str, n: int) -> str:
    """The ``n``th working day after the date, by China's official calendar."""
    day = _day(value)
    while n:
        day += dt.timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return _at(day, value)
