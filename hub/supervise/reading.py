"""What the rule kinds share: the records they read (each once per evaluation), what they
looked at and found, dates and divisions.  Pure reading, no writes.

Dates are compared as calendar days: the first 8 characters of a yyyyMMdd[HHmm[ss]] value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, select

from hub.store.keyfilter import key_in, parts
from hub.store.models import CurrentRecord, RecordRef, RecordVersion, table
from hub.supervise.pack import Group, Rule, Side

CUR, VER, REF = table(CurrentRecord), table(RecordVersion), table(RecordRef)
Key = tuple[str, str]  # (data set, business key)
# keys per query: evaluation reads tens of thousands of records at once, and each round trip
# costs more than a long IN list (bench/findings.py: 500 → 5000 halved it on PostgreSQL)
BATCH = 5000


@dataclass(frozen=True)
class Rec:
    dataset: str
    key: str
    source: str
    content: dict[str, Any]


@dataclass
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

    @property
    def ident(self) -> tuple[str, str, str, str, str]:
        return (self.rule.id, self.end.dataset, self.end.key, self.start.dataset, self.start.key)


def day_of(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 8 or not value[:8].isdigit():
        return None
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
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


def _records(conn: Connection, keys: Iterable[Key], deleted: bool = False) -> dict[Key, Rec]:
    """Current records (their newest content); ``deleted``: deleted ones too."""
    out: dict[Key, Rec] = {}
    for part in parts(sorted(set(keys)), BATCH):
        for r in conn.execute(
            select(CUR.c.dataset, CUR.c.business_key, CUR.c.source, VER.c.content)
            .join(VER, VER.c.id == CUR.c.version_id)
            .where(key_in(CUR.c.dataset, CUR.c.business_key, part))
            .where(CUR.c.deleted.is_(False) if not deleted else CUR.c.deleted.is_not(None))
        ):
            out[(r.dataset, r.business_key)] = Rec(
                r.dataset, r.business_key, r.source, orjson.loads(r.content)
            )
    return out


def _all_keys(conn: Connection, dataset: str) -> Iterator[Key]:
    q = select(CUR.c.dataset, CUR.c.business_key).where(CUR.c.dataset == dataset)
    for r in conn.execute(q.execution_options(yield_per=5000)):
        yield (r.dataset, r.business_key)


def links(rec: Rec, side: Side | Group) -> list[str]:
    v = rec.content.get(side.link or "")
    return [x for x in v.split(";") if x] if isinstance(v, str) else []


def partners(conn: Connection, side: Side | Group, values: set[str]) -> dict[str, set[Key]]:
    """Records of ``side``'s data set whose link field holds one of ``values``."""
    out: dict[str, set[Key]] = {}
    for part in parts(sorted(values), BATCH):
        for r in conn.execute(
            select(REF.c.business_key, REF.c.value).where(
                REF.c.dataset == side.dataset, REF.c.field == side.link, REF.c.value.in_(part)
            )
        ):
            out.setdefault(r.value, set()).add((side.dataset, r.business_key))
    return out


@dataclass
class Seen:
    """What one evaluation has read: records are read once however many rules read them."""

    conn: Connection
    touched: dict[str, list[Key]] | None  # None: everything
    cache: dict[Key, Rec] = field(default_factory=dict)

    def scope(self, dataset: str) -> list[Key]:
        if self.touched is None:
            return list(_all_keys(self.conn, dataset))
        return self.touched.get(dataset, [])

    def touched_records(self, keys: Iterable[Key]) -> dict[Key, Rec]:
        """Records as touched, deleted ones included (a withdrawn bid still names its
        section); not cached: what a rule judges comes from ``records``."""
        keys = set(keys)
        out = self.records(keys)
        return out | _records(self.conn, keys - out.keys(), deleted=True)

    def records(self, keys: Iterable[Key]) -> dict[Key, Rec]:
        keys = set(keys)
        missing = keys - self.cache.keys()
        self.cache.update(_records(self.conn, missing))
        return {k: self.cache[k] for k in keys if k in self.cache}
