"""Evaluating rule packs against current records: pure reading, no writes.

``evaluate`` takes the records a run touched (or None: every record of the data sets a rule
reads) and returns, for every pair of records a rule looked at, whether it broke the rule and
with what evidence.  Dates are compared as calendar days (the first 8 characters of a
yyyyMMdd[HHmm[ss]] value); a rule applies when the breaking event's date is within its
``in_force`` dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from string import Template
from typing import Any

import orjson
from sqlalchemy import Connection, select

from hub.store.keyfilter import key_in, parts
from hub.store.models import CurrentRecord, RecordRef, RecordVersion, table
from hub.supervise.pack import Pack, Rule, Side

CUR, VER, REF = table(CurrentRecord), table(RecordVersion), table(RecordRef)
Key = tuple[str, str]  # (data set, business key)


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


def _records(conn: Connection, keys: Iterable[Key]) -> dict[Key, Rec]:
    out: dict[Key, Rec] = {}
    for part in parts(sorted(set(keys))):
        for r in conn.execute(
            select(CUR.c.dataset, CUR.c.business_key, CUR.c.source, VER.c.content)
            .join(VER, VER.c.id == CUR.c.version_id)
            .where(key_in(CUR.c.dataset, CUR.c.business_key, part), CUR.c.deleted.is_(False))
        ):
            out[(r.dataset, r.business_key)] = Rec(
                r.dataset, r.business_key, r.source, orjson.loads(r.content)
            )
    return out


def _all_keys(conn: Connection, dataset: str) -> Iterator[Key]:
    q = select(CUR.c.dataset, CUR.c.business_key).where(CUR.c.dataset == dataset)
    for r in conn.execute(q.execution_options(yield_per=5000)):
        yield (r.dataset, r.business_key)


def _links(rec: Rec, side: Side) -> list[str]:
    v = rec.content.get(side.link or "")
    return [x for x in v.split(";") if x] if isinstance(v, str) else []


def _partners(conn: Connection, side: Side, values: set[str]) -> dict[str, set[Key]]:
    """Records of ``side``'s data set whose link field holds one of ``values``."""
    out: dict[str, set[Key]] = {}
    for part in parts(sorted(values)):
        for r in conn.execute(
            select(REF.c.business_key, REF.c.value).where(
                REF.c.dataset == side.dataset, REF.c.field == side.link, REF.c.value.in_(part)
            )
        ):
            out.setdefault(r.value, set()).add((side.dataset, r.business_key))
    return out


def _judge(rule: Rule, pack: str, start: Rec, end: Rec, link: str | None) -> Looked | None:
    a, b = start.content.get(rule.start.field), end.content.get(rule.end.field)
    da, db = day_of(a), day_of(b)
    if da is None or db is None or not rule.in_force.covers(db):
        return None  # nothing to judge: a date is missing, or the rule was not in force
    lo, hi = rule.limits(region_of(end) or region_of(start))
    days = (db - da).days
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


def evaluate(conn: Connection, packs: list[Pack], touched: set[Key] | None) -> list[Looked]:
    """Every (rule, start, end) the touched records take part in, judged."""
    by_dataset: dict[str, list[Key]] | None = None
    if touched is not None:
        by_dataset = {}
        for k in touched:
            by_dataset.setdefault(k[0], []).append(k)
    seen = _Seen(conn, by_dataset)
    out: list[Looked] = []
    for pack in packs:
        for rule in pack.rule:
            out += _rule(seen, pack.pack.name, rule)
    return out


@dataclass
class _Seen:
    """What one evaluation has read: records are read once however many rules read them."""

    conn: Connection
    touched: dict[str, list[Key]] | None  # None: everything
    cache: dict[Key, Rec] = field(default_factory=dict)

    def scope(self, dataset: str) -> list[Key]:
        if self.touched is None:
            return list(_all_keys(self.conn, dataset))
        return self.touched.get(dataset, [])

    def records(self, keys: Iterable[Key]) -> dict[Key, Rec]:
        keys = set(keys)
        missing = keys - self.cache.keys()
        self.cache.update(_records(self.conn, missing))
        return {k: self.cache[k] for k in keys if k in self.cache}


def _rule(seen: _Seen, pack: str, rule: Rule) -> list[Looked]:
    if not rule.across:
        recs = seen.records(seen.scope(rule.end.dataset))
        return [x for r in recs.values() if (x := _judge(rule, pack, r, r, None)) is not None]
    # across two records: from each touched record on either side to its partners
    mine = seen.records([*seen.scope(rule.start.dataset), *seen.scope(rule.end.dataset)])
    pairs: set[tuple[Key, Key, str]] = set()
    for here, there, is_start in ((rule.start, rule.end, True), (rule.end, rule.start, False)):
        values: dict[str, set[Key]] = {}
        for k, r in mine.items():
            if k[0] == here.dataset:
                for v in _links(r, here):
                    values.setdefault(v, set()).add(k)
        for v, others in _partners(seen.conn, there, set(values)).items():
            for mine_key in values[v]:
                for o in others:
                    pairs.add((mine_key, o, v) if is_start else (o, mine_key, v))
    recs = {**mine, **seen.records({k for p in pairs for k in p[:2]} - set(mine))}
    out = []
    for s, e, v in sorted(pairs):
        if s in recs and e in recs and (x := _judge(rule, pack, recs[s], recs[e], v)):
            out.append(x)
    return out
