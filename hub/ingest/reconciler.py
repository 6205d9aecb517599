"""Reconcile one chunk of validated records into the store, inside the caller's transaction.

Per record: errors → REJECTED (coded) or QUARANTINED (raw kept); a known content for the key
→ DUPLICATE; a version whose parent is unknown → HELD (with a deadline); otherwise a new
immutable version, placed by ``hub.reconcile.decide`` (current, history, or conflict).
Parents are applied before children within a chunk; holds whose parent became known are
released (recursively) before the transaction commits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection

from hub.dictionary.loader import Dictionary
from hub.ingest.outcome import QUARANTINE_RULES, Counts, Outcome, Verdict
from hub.reconcile.decide import Placement, State, Version, advance
from hub.reconcile.keys import KeyPlan, key_plans
from hub.reconcile.prepare import Prepared, prepare
from hub.store.bulk import Bulk
from hub.store.ids import reserve_ids
from hub.store.keylock import lock_keys
from hub.store.models import (
    CurrentRecord,
    Hold,
    IssueRow,
    Quarantine,
    RecordVersion,
    table,
)
from hub.store.upsert import insert_ignore
from hub.validation.decode import RawRecord
from hub.validation.issues import Issue

CV, RV, HO = table(CurrentRecord), table(RecordVersion), table(Hold)


@dataclass
class Item:
    index: int
    raw: RawRecord
    issues: list[Issue]
    fmt: str
    source: str
    raw_sha256: str | None
    hold_id: int | None = None
    prep: Prepared | None = None  # derived already (in the validating process)


@dataclass
class _Cur:
    """A key's current row as loaded or as built in this chunk."""

    state: State
    version_id: int | None  # None until the pending version is inserted
    version_no: int
    source: str
    existed: bool  # the row is in the database already
    changed: bool = False  # the current version changed in this chunk
    pending: int | None = None  # index into pending versions of the current version
    links: list[tuple[str, str]] | None = None  # the new current version's links


@dataclass
class _Cand:
    item: Item
    plan: KeyPlan
    p: Prepared

    @property
    def key(self) -> str:
        return self.p.key

    @property
    def hash(self) -> str:
        return self.p.hash


@dataclass
class _Out:
    """What one chunk writes, as rows in the column order of the *_COLS below."""

    versions: list[list[Any]] = field(default_factory=list)
    preps: list[Prepared] = field(default_factory=list)  # each new version's derivations
    touched: dict[tuple[str, str], _Cur] = field(default_factory=dict)  # current rows to write
    holds: list[tuple[Any, ...]] = field(default_factory=list)
    conflicts: list[tuple[Any, ...]] = field(default_factory=list)
    sightings: list[tuple[Any, ...]] = field(default_factory=list)


VERSION_COLS = (
    "id",
    "dataset",
    "business_key",
    "version_no",
    "op",
    "content",
    "content_hash",
    "data_timestamp",
    "source",
    "sender_key",
    "package_id",
    "signer",
    "run_id",
    "raw_sha256",
    "record_index",
    "received_at",
)
CURRENT_COLS = (
    "dataset",
    "business_key",
    "library",
    "version_id",
    "data_timestamp",
    "content_hash",
    "deleted",
    "conflict",
    "versions",
    "source",
    "updated_at",
)
HOLD_COLS = (
    "run_id",
    "source",
    "raw_sha256",
    "record_index",
    "dataset",
    "business_key",
    "parent_dataset",
    "parent_key",
    "content_hash",
    "envelope",
    "status",
    "received_at",
    "deadline",
)
REF_COLS = ("dataset", "business_key", "field", "value")
CLAIM_COLS = ("code", "role", "source", "dataset", "name", "version_id", "data_timestamp")
CONFLICT_COLS = ("dataset", "business_key", "data_timestamp", "status", "detected_at")
SIGHTING_COLS = ("version_id", "source", "run_id", "seen_at")


@dataclass
class ChunkResult:
    verdicts: list[Verdict]
    counts: Counts
    released: list[Verdict] = field(default_factory=list)


class Reconciler:
    def __init__(
        self,
        dictionary: Dictionary,
        run_id: int,
        now: datetime,
        hold_for: timedelta,
        package_id: int | None = None,
        signer: str | None = None,
    ) -> None:
        self.plans = key_plans(dictionary)
        self.run_id, self.now, self.hold_for = run_id, now, hold_for
        self.package_id, self.signer = package_id, signer

    # -- the chunk ------------------------------------------------------------------------
    def apply(self, conn: Connection, items: list[Item]) -> ChunkResult:
        counts = Counts(records_in=sum(1 for it in items if it.hold_id is None))
        verdicts: dict[int, Verdict] = {}
        issue_rows: list[dict[str, Any]] = []
        quarantine_rows: list[dict[str, Any]] = []
        cands: list[tuple[int, _Cand]] = []
        for pos, it in enumerate(items):
            cand_or_verdict = self._screen(it, issue_rows, quarantine_rows)
            if isinstance(cand_or_verdict, Verdict):
                verdicts[pos] = cand_or_verdict
            else:
                cands.append((pos, cand_or_verdict))
        cands.sort(key=lambda pc: pc[1].plan.depth)  # parents first (stable)
        db = Bulk(conn)
        keys = {(c.plan.dataset, c.key) for _, c in cands}
        lock_keys(conn, keys)  # other processes writing these keys wait (PostgreSQL)
        cur = self._load_current(db, keys)
        known = self._load_hashes(db, cur, cands)
        parents = self._load_parents(db, cands, cur)
        # most chunks of a healthy feed meet an empty hold table: one probe saves two lookups
        any_held = db.exists("hold", "status = 'held'")
        waiting = self._load_waiting(db, cands) if any_held else set()
        out = _Out()
        for pos, c in cands:
            verdicts[pos] = self._place(c, cur, known, parents, waiting, out)
        self._write(db, out, cur)
        if issue_rows:
            conn.execute(table(IssueRow).insert(), issue_rows)
        insert_ignore(conn, table(Quarantine), quarantine_rows)
        for pos, it in enumerate(items):
            if it.hold_id is None:
                counts.add(verdicts[pos].outcome)
        ordered = [verdicts[pos] for pos in range(len(items))]
        result = ChunkResult(ordered, counts)
        new_keys = [(k[0], k[1]) for k, cr in cur.items() if not cr.existed]
        if new_keys and (any_held or out.holds):
            released = self._release(db, new_keys)
            result.released = released
            counts.released += len(released)
        return result

    # -- screening: errors, keys, content --------------------------------------------------
    def prepare(self, raw: RawRecord, issues: list[Issue]) -> Prepared | None:
        """What ``_screen`` derives from a record without errors (None for any other); pure,
        so the validating process may do it (``hub.ingest.parallel``)."""
        plan = self.plans.get(raw.dataset)
        if plan is None or any(x.severity == "error" for x in issues):
            return None
        return prepare(plan, raw.fields, raw.op)

    def _screen(
        self, it: Item, issue_rows: list[dict[str, Any]], quarantine_rows: list[dict[str, Any]]
    ) -> _Cand | Verdict:
        raw = it.raw
        errors = [x for x in it.issues if x.severity == "error"]
        key = p = None
        plan = self.plans.get(raw.dataset)
        if not errors and plan is not None:
            p = it.prep or prepare(plan, raw.fields, raw.op)
            key = p.key if p else None
            if p is None:
                missing = [f for f in plan.key_fields if not raw.fields.get(f)]
                errors = [
                    Issue(
                        it.source,
                        it.index,
                        raw.dataset,
                        missing[0],
                        "key.missing",
                        None,
                        f"{it.source}, record {it.index}, {raw.dataset}: the business key "
                        f"({' + '.join(plan.key_fields)}) is incomplete; "
                        f"{', '.join(missing)} missing",
                    )
                ]
                it.issues = [*it.issues, *errors]
        if errors and key is None and plan is not None:
            key = plan.key(raw.fields)  # a record not taken still names its key, if it has one
        if errors:
            quarantined = [x for x in errors if x.rule in QUARANTINE_RULES]
            outcome = Outcome.QUARANTINED if quarantined else Outcome.REJECTED
            first = (quarantined or errors)[0]
            self._issue_rows(it, key, outcome, issue_rows)
            if quarantined:
                quarantine_rows.append(self._quarantine_row(it, first))
            return Verdict(
                it.index,
                outcome,
                raw.dataset,
                key,
                None,
                first.rule,
                first.field or None,
                first.value,
                first.message,
            )
        assert plan is not None and p is not None
        if it.issues:  # warnings only
            self._issue_rows(it, p.key, Outcome.ACCEPTED, issue_rows)
        return _Cand(it, plan, p)

    def _issue_rows(
        self, it: Item, key: str | None, outcome: Outcome, out: list[dict[str, Any]]
    ) -> None:
        for x in it.issues:
            out.append(
                {
                    "run_id": self.run_id,
                    "source": it.source,
                    "raw_sha256": it.raw_sha256,
                    "record_index": it.index,
                    "dataset": x.dataset or it.raw.dataset,
                    "business_key": key,
                    "field": x.field,
                    "rule": x.rule,
                    "value": x.value,
                    "message": x.message,
                    "severity": x.severity,
                    "outcome": outcome.value,
                }
            )

    def _quarantine_row(self, it: Item, first: Issue) -> dict[str, Any]:
        raw = it.raw
        if raw.text is not None:
            fmt = it.fmt if it.fmt in ("xml", "row") else "jsonl"
            text = raw.text.decode("utf-8", "replace")
        else:
            envelope = {"dataset": raw.dataset, "op": raw.op, "key": raw.key, "record": raw.fields}
            text, fmt = orjson.dumps(envelope).decode(), "jsonl"
        return {
            "run_id": self.run_id,
            "source": it.source,
            "raw_sha256": it.raw_sha256,
            "record_index": it.index,
            "dataset": raw.dataset,
            "rule": first.rule,
            "message": first.message,
            "raw_record": text,
            "raw_format": fmt,
            "status": "open",
            "created_at": self.now,
        }

    # -- loading state ----------------------------------------------------------------------
    def _load_current(self, db: Bulk, keys: set[tuple[str, str]]) -> dict[Any, _Cur]:
        out: dict[Any, _Cur] = {}
        rows = db.select_keys(
            "c.dataset, c.business_key, c.data_timestamp, c.content_hash, c.deleted, "
            "c.conflict, c.versions, c.version_id, c.source, v.version_no",
            "current_record c JOIN record_version v ON v.id = c.version_id",
            keys,
            ds_col="c.dataset",
            key_col="c.business_key",
        )
        for ds, key, ts, h, deleted, conflict, versions, vid, source, vno in rows:
            st = State(Version(ts, h, bool(deleted)), bool(conflict), versions)
            out[(ds, key)] = _Cur(st, vid, vno, source, True)
        return out

    def _load_hashes(
        self, db: Bulk, cur: dict[Any, _Cur], cands: list[tuple[int, _Cand]]
    ) -> dict[Any, dict[str, tuple[int | None, int, str]]]:
        """Known contents per key: hash → (version id, version no, source); only the
        candidates' own contents are looked up (a key may have many versions)."""
        need = {
            (*k, c.hash)
            for _, c in cands
            if (k := (c.plan.dataset, c.key)) in cur and cur[k].state.current.content_hash != c.hash
        }
        out: dict[Any, dict[str, tuple[int | None, int, str]]] = {}
        rows = db.select_exact(
            "dataset, business_key, content_hash, id, version_no, source",
            "record_version",
            ("dataset", "business_key", "content_hash"),
            need,
        )
        for ds, key, h, vid, vno, source in rows:
            out.setdefault((ds, key), {})[h] = (vid, vno, source)
        for k, c in cur.items():
            out.setdefault(k, {}).setdefault(
                c.state.current.content_hash, (c.version_id, c.version_no, c.source)
            )
        return out

    def _load_parents(
        self, db: Bulk, cands: list[tuple[int, _Cand]], cur: dict[Any, _Cur]
    ) -> set[tuple[str, str]]:
        want = set()
        for _, c in cands:
            if c.plan.parent:
                pk = c.p.parent_key
                if pk is not None and (c.plan.parent, pk) not in cur:
                    want.add((c.plan.parent, pk))
        return {
            (r[0], r[1]) for r in db.select_keys("dataset, business_key", "current_record", want)
        }

    def _load_waiting(self, db: Bulk, cands: list[tuple[int, _Cand]]) -> set[tuple[str, str, str]]:
        """(data set, key, content hash) of records already held (those with a parent)."""
        want = {(c.plan.dataset, c.key) for _, c in cands if c.plan.parent}
        rows = db.select_keys(
            "dataset, business_key, content_hash", "hold", want, where="status = 'held'"
        )
        return {(r[0], r[1], r[2]) for r in rows}

    # -- placing one candidate ------------------------------------------------------------
    def _place(
        self,
        c: _Cand,
        cur: dict[Any, _Cur],
        known: dict[Any, dict[str, tuple[int | None, int, str]]],
        parents: set[tuple[str, str]],
        waiting: set[tuple[str, str, str]],
        out: _Out,
    ) -> Verdict:
        it, ds = c.item, c.plan.dataset
        k = (ds, c.key)
        have = known.get(k, {})
        if c.hash in have:
            vid, vno, vsource = have[c.hash]
            if vid is not None and vsource != it.source:
                out.sightings.append((vid, it.source, self.run_id))
            return Verdict(it.index, Outcome.DUPLICATE, ds, c.key, vno, message="already stored")
        entry = cur.get(k)
        # a version that points at an unknown parent waits, whether or not its key is known
        p = c.p
        if c.plan.parent:
            pk = p.parent_key
            if (
                pk is not None
                and (c.plan.parent, pk) not in parents
                and (c.plan.parent, pk) not in cur
            ):
                if (ds, c.key, c.hash) not in waiting:  # the same record held again: one row
                    waiting.add((ds, c.key, c.hash))
                    out.holds.append(self._hold_row(c, pk))
                return Verdict(
                    it.index,
                    Outcome.HELD,
                    ds,
                    c.key,
                    message=f"waiting for {c.plan.parent} {pk!r} until "
                    f"{(self.now + self.hold_for).isoformat(timespec='seconds')}",
                )
        state, placement = advance(
            entry.state if entry else None, Version(p.ts, p.hash, p.op == "delete")
        )
        version_no = state.versions
        slot = len(out.versions)
        out.versions.append(
            [
                None,  # id, reserved at write time
                ds,
                c.key,
                version_no,
                p.op,
                p.content,
                p.hash,
                p.ts,
                it.source,
                it.raw.key,
                self.package_id,
                self.signer,
                self.run_id,
                it.raw_sha256,
                it.index,
                None,  # received_at, in the driver's form at write time
            ]
        )
        out.preps.append(p)
        known.setdefault(k, {})[c.hash] = (None, version_no, it.source)
        if entry is None:
            entry = _Cur(state, None, version_no, it.source, False, True, slot, p.links)
            cur[k] = entry
        else:
            if state.current.content_hash == c.hash:
                entry.source, entry.version_no = it.source, version_no
                entry.version_id, entry.pending, entry.changed = None, slot, True
                entry.links = p.links
            entry.state = state
        out.touched[k] = entry
        if placement is Placement.CONFLICT:
            out.conflicts.append((ds, c.key, p.ts))
        how = str.__str__(placement)  # a StrEnum member is its value
        return Verdict(it.index, Outcome.ACCEPTED, ds, c.key, version_no, message=how)

    def _hold_row(self, c: _Cand, parent_key: str) -> tuple[Any, ...]:
        raw = c.item.raw
        # the canonical content, not raw.fields: a record prepared in the validating process
        # comes without its fields, and the envelope must not depend on where it was prepared
        fields = orjson.loads(c.p.content)
        envelope = {"dataset": raw.dataset, "op": raw.op, "key": raw.key, "record": fields}
        return (
            self.run_id,
            c.item.source,
            c.item.raw_sha256,
            c.item.index,
            c.plan.dataset,
            c.key,
            c.plan.parent,
            parent_key,
            c.hash,
            orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS).decode(),
            "held",
        )

    # -- writing -----------------------------------------------------------------------------
    def _write(self, db: Bulk, out: _Out, cur: dict[Any, _Cur]) -> None:
        now = db.when(self.now)
        if out.holds:
            deadline = db.when(self.now + self.hold_for)
            db.insert("hold", HOLD_COLS, [(*h, now, deadline) for h in out.holds])
        ids = reserve_ids(db.conn, RV, len(out.versions))
        for row, vid in zip(out.versions, ids, strict=True):
            row[0], row[-1] = vid, now
        db.insert("record_version", VERSION_COLS, out.versions, copy=True)
        new, changed, stale, refs = [], [], [], []
        for (ds, key), e in out.touched.items():
            if e.pending is not None:
                e.version_id, e.pending = ids[e.pending], None
            st = e.state
            head = (e.version_id, st.current.data_timestamp, st.current.content_hash)
            tail = (st.current.deleted, st.conflict, st.versions, e.source, now)
            if e.existed:
                changed.append((*head, *tail, ds, key))
            else:
                new.append((ds, key, self.plans[ds].library, *head, *tail))
            if e.changed:
                if e.existed:
                    stale.append((ds, key))
                assert e.links is not None  # set whenever the current version changes
                refs += [(ds, key, f, v) for f, v in e.links]
        db.insert("current_record", CURRENT_COLS, new, copy=True)
        db.update("current_record", CURRENT_COLS[3:], CURRENT_COLS[:2], changed)
        db.delete("record_ref", ("dataset", "business_key"), stale)
        db.insert("record_ref", REF_COLS, refs, copy=True)
        db.upsert(
            "entity_claim",
            CLAIM_COLS,
            self._claims(out, ids),
            CLAIM_COLS[:4],
            where="entity_claim.data_timestamp <= excluded.data_timestamp",
        )
        db.insert(
            "conflict", CONFLICT_COLS, [(*c, "open", now) for c in out.conflicts], ignore=True
        )
        db.insert("sighting", SIGHTING_COLS, [(*x, now) for x in out.sightings], ignore=True)

    def _claims(self, out: _Out, ids: list[int]) -> list[tuple[Any, ...]]:
        """Entity claims (credit code, role, source, data set) of the new versions."""
        claims: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        for row, vid, p in zip(out.versions, ids, out.preps, strict=True):
            for code, role, name in p.claims:
                k = (code, role, row[8], row[1])
                old = claims.get(k)
                if old is None or old[6] <= row[7]:  # one row per key: the newest wins
                    claims[k] = (*k, name, vid, row[7])
        return list(claims.values())

    # -- holds -------------------------------------------------------------------------------
    def _release(self, db: Bulk, parent_keys: list[tuple[str, str]]) -> list[Verdict]:
        """Apply holds waiting for parents that are now known; recursive through apply()."""
        holds = db.select_keys(
            "id, record_index, envelope, source, raw_sha256",
            "hold",
            parent_keys,
            ds_col="parent_dataset",
            key_col="parent_key",
            where="status = 'held'",
        )
        if not holds:
            return []
        holds.sort(key=lambda h: h[0])
        items = []
        for hid, index, envelope, source, sha in holds:
            env = orjson.loads(envelope)
            raw = RawRecord(index, env["dataset"], env["record"], env.get("op"), env.get("key"))
            items.append(Item(index, raw, [], "jsonl", source, sha, hid))
        db.update(
            "hold",
            ("status", "resolved_at"),
            ("id",),
            [("released", db.when(self.now), h[0]) for h in holds],
        )
        res = self.apply(db.conn, items)
        return res.verdicts + res.released
