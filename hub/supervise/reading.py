"""What the rule kinds share: the records they read (each once per evaluation), what they
looked at and found, dates and divisions.  Pure reading, no writes.

Dates are compared as calendar days: the first 8 characters of a yyyyMMdd[HHmm[ss]] value.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, select

from hub.store.keyfilter import key_in, parts
from hub.store.models import CurrentRecord, RecordRef, RecordVersion, table
from hub.supervise.pack import Rule

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
    # every pair of this rule ending in ``end`` was judged in this evaluation: a kept finding
    # of the rule on ``end`` with another start (the record's code changed) is cleared
    complete: bool = False

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
        ).all():  # fetched at once: a row at a time costs more than the query
            out[(r[0], r[1])] = Rec(r[0], r[1], r[2], orjson.loads(r[3]))
    return out


def _all_keys(conn: Connection, dataset: str) -> Iterator[Key]:
    q = select(CUR.c.dataset, CUR.c.business_key).where(CUR.c.dataset == dataset)
    for r in conn.execute(q.execution_options(yield_per=5000)):
        yield (r.dataset, r.business_key)


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


def keyed_pairs(
    seen: Seen, start: Linked, end: Linked
) -> tuple[dict[Key, Rec], set[tuple[Key, Key, str]]]:
    """Pairs (start record, end record, link code) of two data sets linked by a code, from
    every touched record on either side to its partners; and the records read."""
    mine = seen.records([*seen.scope(start.dataset), *seen.scope(end.dataset)])
    pairs: set[tuple[Key, Key, str]] = set()
    for here, there, is_start in ((start, end, True), (end, start, False)):
        values: dict[str, set[Key]] = {}
        for k, r in mine.items():
            if k[0] == here.dataset:
                for v in links(r, here):
                    values.setdefault(v, set()).add(k)
        for v, others in partners(seen.conn, there, set(values)).items():
            for mine_key in values[v]:
                for o in others:
                    pairs.add((mine_key, o, v) if is_start else (o, mine_key, v))
    recs = {**mine, **seen.records({k for p in pairs for k in p[:2]} - set(mine))}
    return recs, pairs


def each_pair(
    seen: Seen, start: Linked, end: Linked, judge: Callable[[Rec, Rec, str | None], Looked | None]
) -> list[Looked]:
    """``judge(start record, end record, link code)`` over what a rule reads: each touched
    record of one data set, or every linked pair across two."""
    if start.dataset == end.dataset:
        recs = seen.records(seen.scope(end.dataset))
        return [x for r in recs.values() if (x := judge(r, r, None)) is not None]
    recs, pairs = keyed_pairs(seen, start, end)
    return [
        x for s, e, v in sorted(pairs)
        if s in recs and e in recs and (x := judge(recs[s], recs[e], v)) is not None
    ]  # fmt: skip


def links(rec: Rec, side: Linked) -> list[str]:
    v = rec.content.get(side.link or "")
    return [x for x in v.split(";") if x] if isinstance(v, str) else []


def partners(conn: Connection, side: Linked, values: set[str]) -> dict[str, set[Key]]:
    """Records of ``side``'s data set whose link field holds one of ``values``."""
    out: dict[str, set[Key]] = {}
    for part in parts(sorted(values), BATCH):
        for r in conn.execute(
            select(REF.c.business_key, REF.c.value).where(
                REF.c.dataset == side.dataset, REF.c.field == side.link, REF.c.value.in_(part)
            )
        ).all():
            out.setdefault(r[1], set()).add((side.dataset, r[0]))
    return out


@dataclass
class Seen:
    """What one evaluation has read: records are read once however many rules read them."""

    conn: Connection
    touched: dict[str, list[Key]] | None  # None: everything
    cache: dict[Key, Rec] = field(default_factory=dict)
    # the members of link codes per (data set, link field): seven rules read the bids of
    # the same sections, and read them once
    groups: dict[tuple[str, str | None], dict[str, list[Rec]]] = field(default_factory=dict)
    codes: dict[tuple[tuple[str, str | None], ...], set[str]] = field(default_factory=dict)

    def group(self, side: Linked, codes: set[str]) -> dict[str, list[Rec]]:
        """The current records of ``side``'s data set holding each code in its link field,
        sorted by key; codes without any left out."""
        memo = self.groups.setdefault((side.dataset, side.link), {})
        missing = {c for c in codes if c not in memo}
        if missing:
            found = partners(self.conn, side, missing)
            recs = self.records({k for ks in found.values() for k in ks})
            for c in missing:
                got = (recs[k] for k in found.get(c, ()) if k in recs)
                memo[c] = sorted(got, key=lambda r: r.key)
        return {c: memo[c] for c in codes if memo[c]}

    def touched_codes(self, sides: list[Linked]) -> set[str]:
        """The link codes the touched records of these sides' data sets hold."""
        ident = tuple((s.dataset, s.link) for s in sides)
        if ident not in self.codes:
            keys = [k for s in sides for k in self.scope(s.dataset)]
            recs = self.touched_records(keys)
            self.codes[ident] = {
                v for s in sides for k, r in recs.items() if k[0] == s.dataset for v in links(r, s)
            }
        return self.codes[ident]

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

    def every(self, dataset: str) -> dict[Key, Rec]:
        """Every current record of a data set (a blacklist: small next to transactions)."""
        return self.records(_all_keys(self.conn, dataset))

    def records(self, keys: Iterable[Key]) -> dict[Key, Rec]:
        keys = set(keys)
        missing = {k for k in keys if k not in self.cache}  # not a set difference with the
        self.cache.update(_records(self.conn, missing))  # cache: that is O(cache) per call
        return {k: self.cache[k] for k in keys if k in self.cache}
