"""What the rule kinds share: a record as read, what a rule looked at and found, dates and
divisions.  (Reading records from the store is ``seen``.)

Dates are compared as calendar days: the first 8 characters of a yyyyMMdd[HHmm[ss]] value.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub.supervise.pack import Rule

Key = tuple[str, str]  # (data set, business key)


@dataclass(frozen=True, slots=True)
class Rec:
    dataset: str
    key: str
    source: str
    content: dict[str, Any]


@dataclass(slots=True)
class Looked:
    """One pair of records one rule looked at (start, end; the same record for a rule within
    one record): ``broken`` with its message and evidence, or passing."""

    rule: Rule
    pack: str
    start: Rec
    end: Rec
    link: str | None
    broken: bool
    days: int | None = None
    message: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)
    event_day: dt.date | None = None
    # every pair of this rule ending in ``end`` was judged in this evaluation: a kept finding
    # of the rule on ``end`` with another start (the record's code changed) is cleared
    complete: bool = False

    @property
    def ident(self) -> tuple[str, str, str, str, str]:
        """(rule, end data set, end key, start data set, start key): a finding's identity."""
        s, e = self.start, self.end
        return (self.rule.id, e.dataset, e.key, s.dataset, s.key)


def day_of(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 8:
        return None
    return _day(value[:8])


@functools.lru_cache(maxsize=65536)  # a night's records share a few hundred days
def _day(ymd: str) -> dt.date | None:
    if not ymd.isdigit():
        return None
    try:
        return dt.date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:8]))
    except ValueError:
        return None


def region_of(rec: Rec) -> str | None:
    """The record's administrative division: REGION_CODE or TRA_PLACE_CODE when it carries
    one, else the six digits after the letter of a CEB project, tender-project or section
    code (E + GB/T 2260 + yyMMdd + serial: the layout Fujian's generator uses)."""
    for f in ("REGION_CODE", "TRA_PLACE_CODE"):
        v = rec.content.get(f)
        if isinstance(v, str) and v[:6].isdigit():
            return v[:6]
    for f in ("BID_SECTION_CODE", "TENDER_PROJECT_CODE", "PROJECT_CODE"):
        v = rec.content.get(f)
        if isinstance(v, str) and len(v) >= 17 and v[0].isalpha() and v[1:7].isdigit():
            return v[1:7]
    return None


class Linked(Protocol):
    """What links records: a data set and the field holding the link code (a rule's Side,
    Group, Amount or Member)."""

    @property
    def dataset(self) -> str: ...

    @property
    def link(self) -> str | None: ...


def stamped_in_force(rule: Rule, r: Rec) -> bool:
    """A rule over a group is judged as of the record's own date (its DATA_TIMESTAMP)."""
    day = day_of(r.content.get("DATA_TIMESTAMP"))
    return day is not None and rule.in_force.covers(day)


def links(rec: Rec, side: Linked) -> list[str]:
    return codes_in(rec.content.get(side.link) if side.link else None)


def codes_in(value: Any) -> list[str]:
    """The codes of a link field's value: a list of codes is joined by ';'."""
    if not isinstance(value, str) or not value:
        return []
    return [value] if ";" not in value else [x for x in value.split(";") if x]
