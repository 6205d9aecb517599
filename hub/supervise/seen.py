"""Reading records for one evaluation, each once however many rules read it.  Pure reading.

What runs wrote is read in one pass from the runs' own versions (``touched``): by run id, so
the cost follows the run, not the store.  Everything else a rule needs (the other bids of a
section, a looked-up company, a blacklist) is read by key or link code and kept in ``Seen``.

On SQLite only the fields the packs read are taken out of each content (json_extract in the
database: 2.5 times faster than reading and parsing whole contents); PostgreSQL parses a text
column as JSON no faster than orjson does, so there records are read whole.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, and_, case, func, select

from hub.dictionary.loader import load_dictionary
from hub.reconcile.keys import KEY_SEP
from hub.store.keyfilter import by_dataset, parts, values_in
from hub.store.models import CurrentRecord, RecordRef, RecordVersion, table
from hub.supervise.reading import Key, Linked, Rec, codes_in, links

CUR, VER, REF = table(CurrentRecord), table(RecordVersion), table(RecordRef)
# keys per query: evaluation reads tens of thousands of records at once, and each round trip
# costs more than a long IN list (bench/findings.py: 500 → 5000 halved it on PostgreSQL)
BATCH = 5000
Fields = dict[str, frozenset[str]]  # the fields read, per data set


def _content(conn: Connection, ds: str | None, fields: Fields) -> Any:
    """The content column as read: on SQLite the data set's fields as a JSON array (``ds``
    None: each row's own data set's), elsewhere whole."""
    if conn.dialect.name != "sqlite":
        return VER.c.content

    def extract(names: list[str]) -> Any:  # with one path json_extract gives no array
        if len(names) < 2:
            return VER.c.content
        return func.json_extract(VER.c.content, *(f"$.{f}" for f in names))

    if ds is not None:
        return extract(sorted(fields.get(ds, ())))
    whens = {d: extract(sorted(fs)) for d, fs in sorted(fields.items())}
    return case(whens, value=VER.c.dataset, else_=VER.c.content)


def _rec(ds: str, key: str, source: str, raw: str | bytes, names: dict[str, list[str]]) -> Rec:
    got = orjson.loads(raw)
    if isinstance(got, list):  # the fields' values in order, null when absent
        got = {f: v for f, v in zip(names[ds], got, strict=True) if v is not None}
    return Rec(ds, key, source, got)


@dataclass
class Touched:
    """What runs wrote, as it stands now: the records whose current version a run wrote
    (a version older than the current one changed nothing to judge), and of them those
    deleted (a withdrawn bid still names its section)."""

    current: dict[Key, Rec]
    deleted: dict[Key, Rec]
    first_run: int = 0  # the first of the runs: what came before was judged already


def touched(conn: Connection, run_ids: list[int], fields: Fields) -> Touched:
    """The records of the data sets in ``fields`` written by these runs, with contents."""
    out = Touched({}, {}, min(run_ids))
    content = _content(conn, None, fields)
    names = {ds: sorted(fs) for ds, fs in fields.items()}
    current = and_(
        CUR.c.dataset == VER.c.dataset,
        CUR.c.business_key == VER.c.business_key,
        CUR.c.version_id == VER.c.id,
    )
    for part in parts(sorted(run_ids)):
        q = (
            select(VER.c.dataset, VER.c.business_key, CUR.c.source, CUR.c.deleted, content)
            .join(CUR, current)
            .where(VER.c.run_id.in_(part), VER.c.dataset.in_(sorted(fields)))
        )
        for ds, key, source, deleted, raw in conn.execute(q).all():
            (out.deleted if deleted else out.current)[(ds, key)] = _rec(ds, key, source, raw, names)
    return out


def _records(conn: Connection, keys: Iterable[Key], fields: Fields) -> dict[Key, Rec]:
    """Current records (their newest content), deleted ones left out."""
    out: dict[Key, Rec] = {}
    names = {ds: sorted(fs) for ds, fs in fields.items()}
    for ds, ks in sorted(by_dataset(set(keys)).items()):
        content = _content(conn, ds, fields)
        for part in parts(sorted(ks), BATCH):
            q = (
                select(CUR.c.business_key, CUR.c.source, content)
                .join(VER, VER.c.id == CUR.c.version_id)
                .where(CUR.c.dataset == ds, values_in(CUR.c.business_key, part))
                .where(CUR.c.deleted.is_(False))
            )
            for key, source, raw in conn.execute(q).all():  # at once: cheaper than by row
                out[(ds, key)] = _rec(ds, key, source, raw, names)
    return out


def _all_keys(conn: Connection, dataset: str) -> Iterator[Key]:
    q = select(CUR.c.dataset, CUR.c.business_key).where(CUR.c.dataset == dataset)
    for r in conn.execute(q.execution_options(yield_per=5000)):
        yield (r.dataset, r.business_key)


def partners(conn: Connection, side: Linked, values: set[str]) -> dict[str, set[Key]]:
    """Records of ``side``'s data set whose link field holds one of ``values``."""
    out: dict[str, set[Key]] = {}
    for part in parts(sorted(values), BATCH):
        for r in conn.execute(
            select(REF.c.business_key, REF.c.value).where(
                REF.c.dataset == side.dataset,
                REF.c.field == side.link,
                values_in(REF.c.value, part),
            )
        ).all():
            out.setdefault(r[1], set()).add((side.dataset, r[0]))
    return out


@dataclass
class Seen:
    """What one evaluation has read: records are read once however many rules read them."""

    conn: Connection
    touched: Touched | None  # None: every record is judged
    fields: Fields
    cache: dict[Key, Rec] = field(default_factory=dict)
    # the members of link codes per (data set, link field): seven rules read the bids of
    # the same sections, and read them once
    groups: dict[tuple[str, str | None], dict[str, list[Rec]]] = field(default_factory=dict)
    codes: dict[tuple[tuple[str, str | None], ...], set[str]] = field(default_factory=dict)
    # per data set: the keys judged, their current records, every current record
    scopes: dict[str, list[Key]] = field(default_factory=dict)
    mines: dict[str, dict[Key, Rec]] = field(default_factory=dict)
    everything: dict[str, dict[Key, Rec]] = field(default_factory=dict)
    # what rules derive from the same records (the sorted prices of each section), by name
    derived: dict[Any, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.touched is not None:  # what the runs wrote is read already
            self.cache.update(self.touched.current)
            for k, r in self.touched.current.items():
                self.scopes.setdefault(k[0], []).append(k)
                self.mines.setdefault(k[0], {})[k] = r
            for k in self.touched.deleted:
                self.scopes.setdefault(k[0], []).append(k)

    def scope(self, dataset: str) -> list[Key]:
        """The keys of a data set this evaluation judges: those touched (deleted ones
        included), or every one."""
        if dataset not in self.scopes and self.touched is None:
            self.scopes[dataset] = list(_all_keys(self.conn, dataset))
        return self.scopes.get(dataset, [])

    def mine(self, dataset: str) -> dict[Key, Rec]:
        """The current records of ``scope(dataset)``."""
        if dataset not in self.mines:
            self.mines[dataset] = self.records(self.scope(dataset))
        return self.mines[dataset]

    def every(self, dataset: str) -> dict[Key, Rec]:
        """Every current record of a data set (a blacklist: small next to transactions)."""
        if self.touched is None:
            return self.mine(dataset)
        if dataset not in self.everything:
            self.everything[dataset] = self.records(_all_keys(self.conn, dataset))
        return self.everything[dataset]

    def columns(
        self, dataset: str, link: str | None, name: str
    ) -> Iterator[tuple[Key, list[str], Any]]:
        """(key, link codes, value of ``name``) of every current record of a data set, read
        as cheaply as the store allows: from the business keys alone when the fields are part
        of the key (a bid list's section and bidder), else only those fields on SQLite, else
        whole records.  For what looks across the store: co-bidding, the bids of a party."""
        key_fields = load_dictionary().datasets[dataset].business_key
        if self.touched is not None and {f for f in (link, name) if f} <= set(key_fields):
            at = {f: i for i, f in enumerate(key_fields)}
            q = select(CUR.c.business_key).where(CUR.c.dataset == dataset)
            for (key,) in self.conn.execute(q.where(CUR.c.deleted.is_(False))).all():
                got = key.split(KEY_SEP)
                if len(got) == len(key_fields):
                    yield (dataset, key), [got[at[link]]] if link else [], got[at[name]]
                elif (rec := self.records([(dataset, key)]).get((dataset, key))) is not None:
                    # a value holding the key separator: the record itself says
                    value = rec.content.get(name)
                    yield (dataset, key), codes_in(rec.content.get(link or "")), value
        elif self.touched is not None and self.conn.dialect.name == "sqlite":
            both = func.json_extract(VER.c.content, f"$.{link or name}", f"$.{name}")
            q = (
                select(CUR.c.business_key, both)
                .join(VER, VER.c.id == CUR.c.version_id)
                .where(CUR.c.dataset == dataset, CUR.c.deleted.is_(False))
            )
            for key, raw in self.conn.execute(q).all():
                code, value = orjson.loads(raw)
                yield (dataset, key), codes_in(code) if link else [], value
        else:  # every record is read already (None: everything judged), or read whole
            for k, r in self.every(dataset).items():
                yield k, codes_in(r.content.get(link or "")), r.content.get(name)

    def records(self, keys: Iterable[Key]) -> dict[Key, Rec]:
        keys = set(keys)
        # not a set difference with the cache: that is O(cache) per call
        missing = {k for k in keys if k not in self.cache}
        self.cache.update(_records(self.conn, missing, self.fields))
        return {k: self.cache[k] for k in keys if k in self.cache}

    def changed(self, dataset: str, name: str) -> set[str]:
        """Keys of the touched records of ``dataset`` whose field ``name`` differs from the
        version that was current before these runs (the one the last check judged by: the
        newest DATA_TIMESTAMP written earlier), or that had none, or were deleted.  A company
        resent with the same telephone changes no pair judged by it; re-judging every bid
        naming it (all of its history) cost more than the run (bench/findings.py --history)."""
        if self.touched is None:
            return set()  # everything is judged anyway
        now = {k[1]: r.content.get(name) for k, r in self.mine(dataset).items()}
        same: set[str] = set()
        for part in parts(sorted(now), BATCH):
            earlier = (VER.c.dataset == dataset) & (VER.c.run_id < self.touched.first_run)
            newest = (
                select(VER.c.business_key.label("k"), func.max(VER.c.data_timestamp).label("ts"))
                .where(earlier, values_in(VER.c.business_key, part))
                .group_by(VER.c.business_key)
                .subquery()
            )
            q = select(VER.c.business_key, VER.c.content).join(
                newest, and_(VER.c.business_key == newest.c.k, VER.c.data_timestamp == newest.c.ts)
            )
            was: dict[str, list[Any]] = {}  # (two versions of one timestamp: a conflict)
            for key, raw in self.conn.execute(q.where(earlier)).all():
                was.setdefault(key, []).append(orjson.loads(raw).get(name))
            same |= {k for k, vs in was.items() if all(v == now[k] for v in vs)}
        gone = {k[1] for k in self.touched.deleted if k[0] == dataset}
        return (set(now) - same) | gone

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
        """The link codes the touched records of these sides' data sets hold, deleted ones
        included (a withdrawn bid still names its section)."""
        ident = tuple((s.dataset, s.link) for s in sides)
        if ident not in self.codes:
            gone = self.touched.deleted if self.touched is not None else {}
            out: set[str] = set()
            for s in sides:
                recs = self.mine(s.dataset)
                for r in (*recs.values(), *(r for k, r in gone.items() if k[0] == s.dataset)):
                    out.update(links(r, s))
            self.codes[ident] = out
        return self.codes[ident]
