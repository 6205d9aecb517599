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
from sqlalchemy import Connection, and_, bindparam, select, update

from hub.dictionary.loader import Dictionary
from hub.ingest.outcome import QUARANTINE_RULES, Counts, Outcome, Verdict
from hub.reconcile.decide import Placement, State, Version, advance
from hub.reconcile.keys import KeyPlan, canonical, content_hash, key_plans
from hub.store.ids import reserve_ids
from hub.store.keyfilter import key_in, parts
from hub.store.models import (
    Conflict,
    CurrentRecord,
    EntityClaim,
    Hold,
    IssueRow,
    Quarantine,
    RecordRef,
    RecordVersion,
    Sighting,
    table,
)
from hub.store.upsert import insert_ignore, upsert
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


@dataclass
class _Cur:
    """A key's current row as loaded or as built in this chunk."""

    state: State
    version_id: int | None  # None until the pending version is inserted
    version_no: int
    content: str
    source: str
    existed: bool  # the row is in the database already
    changed: bool = False  # the current version changed in this chunk
    pending: int | None = None  # index into pending versions of the current version
    fields: dict[str, Any] | None = None  # the new current version's fields (no re-parse)


@dataclass
class _Cand:
    item: Item
    plan: KeyPlan
    key: str
    op: str
    content: str
    hash: str
    ts: str


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
        cur = self._load_current(conn, {(c.plan.dataset, c.key) for _, c in cands})
        known = self._load_hashes(conn, cur, cands)
        parents = self._load_parents(conn, cands, cur)
        waiting = self._load_waiting(conn, cands, cur)
        pending: list[dict[str, Any]] = []
        pending_fields: list[dict[str, Any]] = []  # each pending version's fields
        pending_cur: list[_Cur] = []
        hold_rows: list[dict[str, Any]] = []
        conflict_rows: list[dict[str, Any]] = []
        sightings: list[dict[str, Any]] = []
        for pos, c in cands:
            verdicts[pos] = self._place(
                c,
                cur,
                known,
                parents,
                waiting,
                pending,
                pending_cur,
                hold_rows,
                conflict_rows,
                sightings,
            )
            if len(pending) > len(pending_fields):  # accepted: one new pending version
                pending_fields.append(c.item.raw.fields)
        self._write(
            conn, pending, pending_fields, pending_cur, cur, hold_rows, conflict_rows, sightings
        )
        if issue_rows:
            conn.execute(table(IssueRow).insert(), issue_rows)
        insert_ignore(conn, table(Quarantine), quarantine_rows)
        for pos, it in enumerate(items):
            if it.hold_id is None:
                counts.add(verdicts[pos].outcome)
        ordered = [verdicts[pos] for pos in range(len(items))]
        result = ChunkResult(ordered, counts)
        new_keys = [(k[0], k[1]) for k, cr in cur.items() if not cr.existed]
        if new_keys:
            released = self._release(conn, new_keys)
            result.released = released
            counts.released += len(released)
        return result

    # -- screening: errors, keys, content --------------------------------------------------
    def _screen(
        self, it: Item, issue_rows: list[dict[str, Any]], quarantine_rows: list[dict[str, Any]]
    ) -> _Cand | Verdict:
        raw = it.raw
        errors = [x for x in it.issues if x.severity == "error"]
        key = None
        plan = self.plans.get(raw.dataset)
        if not errors and plan is not None:
            key = plan.key(raw.fields)
            if key is None:
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
        assert plan is not None and key is not None
        if it.issues:  # warnings only
            self._issue_rows(it, key, Outcome.ACCEPTED, issue_rows)
        op = raw.op or "add"
        canon = canonical(raw.fields)
        return _Cand(
            it,
            plan,
            key,
            op,
            canon.decode(),
            content_hash(op, canon),
            str(raw.fields.get("DATA_TIMESTAMP") or ""),
        )

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
            text, fmt = raw.text.decode("utf-8", "replace"), ("xml" if it.fmt == "xml" else "jsonl")
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
    def _load_current(self, conn: Connection, keys: set[tuple[str, str]]) -> dict[Any, _Cur]:
        out: dict[Any, _Cur] = {}
        cols = (
            CV.c.dataset,
            CV.c.business_key,
            CV.c.data_timestamp,
            CV.c.content_hash,
            CV.c.deleted,
            CV.c.conflict,
            CV.c.versions,
            CV.c.version_id,
            CV.c.content,
            CV.c.source,
            RV.c.version_no,
        )
        for part in parts(sorted(keys)):
            q = (
                select(*cols)
                .join(RV, RV.c.id == CV.c.version_id)
                .where(key_in(CV.c.dataset, CV.c.business_key, part))
            )
            for r in conn.execute(q):
                st = State(
                    Version(r.data_timestamp, r.content_hash, r.deleted), r.conflict, r.versions
                )
                out[(r.dataset, r.business_key)] = _Cur(
                    st, r.version_id, r.version_no, r.content, r.source, True
                )
        return out

    def _load_hashes(
        self, conn: Connection, cur: dict[Any, _Cur], cands: list[tuple[int, _Cand]]
    ) -> dict[Any, dict[str, tuple[int | None, int, str]]]:
        """Known contents per key: hash → (version id, version no, source)."""
        need = sorted(
            {
                (c.plan.dataset, c.key)
                for _, c in cands
                if (k := (c.plan.dataset, c.key)) in cur
                and cur[k].state.current.content_hash != c.hash
            }
        )
        out: dict[Any, dict[str, tuple[int | None, int, str]]] = {}
        for part in parts(need):
            q = select(
                RV.c.dataset,
                RV.c.business_key,
                RV.c.content_hash,
                RV.c.id,
                RV.c.version_no,
                RV.c.source,
            ).where(key_in(RV.c.dataset, RV.c.business_key, part))
            for r in conn.execute(q):
                out.setdefault((r.dataset, r.business_key), {})[r.content_hash] = (
                    r.id,
                    r.version_no,
                    r.source,
                )
        for k, c in cur.items():
            out.setdefault(k, {}).setdefault(
                c.state.current.content_hash, (c.version_id, c.version_no, c.source)
            )
        return out

    def _load_parents(
        self, conn: Connection, cands: list[tuple[int, _Cand]], cur: dict[Any, _Cur]
    ) -> set[tuple[str, str]]:
        want = set()
        for _, c in cands:
            if c.plan.parent:
                pk = c.plan.parent_key(c.item.raw.fields)
                if pk is not None:
                    want.add((c.plan.parent, pk))
        found: set[tuple[str, str]] = set()
        for part in parts(sorted(want)):
            q = select(CV.c.dataset, CV.c.business_key).where(
                key_in(CV.c.dataset, CV.c.business_key, part)
            )
            found.update((r.dataset, r.business_key) for r in conn.execute(q))
        return found

    def _load_waiting(
        self, conn: Connection, cands: list[tuple[int, _Cand]], cur: dict[Any, _Cur]
    ) -> set[tuple[str, str, str]]:
        """(data set, key, content hash) of records already held (those with a parent)."""
        want = sorted({(c.plan.dataset, c.key) for _, c in cands if c.plan.parent})
        out: set[tuple[str, str, str]] = set()
        for part in parts(want):
            q = select(HO.c.dataset, HO.c.business_key, HO.c.content_hash).where(
                HO.c.status == "held", key_in(HO.c.dataset, HO.c.business_key, part)
            )
            out.update((r.dataset, r.business_key, r.content_hash) for r in conn.execute(q))
        return out

    # -- placing one candidate ------------------------------------------------------------
    def _place(
        self,
        c: _Cand,
        cur: dict[Any, _Cur],
        known: dict[Any, dict[str, tuple[int | None, int, str]]],
        parents: set[tuple[str, str]],
        waiting: set[tuple[str, str, str]],
        pending: list[dict[str, Any]],
        pending_cur: list[_Cur],
        hold_rows: list[dict[str, Any]],
        conflict_rows: list[dict[str, Any]],
        sightings: list[dict[str, Any]],
    ) -> Verdict:
        it, ds = c.item, c.plan.dataset
        k = (ds, c.key)
        have = known.get(k, {})
        if c.hash in have:
            vid, vno, vsource = have[c.hash]
            if vid is not None and vsource != it.source:
                sightings.append(
                    {
                        "version_id": vid,
                        "source": it.source,
                        "run_id": self.run_id,
                        "seen_at": self.now,
                    }
                )
            return Verdict(it.index, Outcome.DUPLICATE, ds, c.key, vno, message="already stored")
        entry = cur.get(k)
        # a version that points at an unknown parent waits, whether or not its key is known
        if c.plan.parent:
            pk = c.plan.parent_key(it.raw.fields)
            if (
                pk is not None
                and (c.plan.parent, pk) not in parents
                and (c.plan.parent, pk) not in cur
            ):
                if (ds, c.key, c.hash) not in waiting:  # the same record held again: one row
                    waiting.add((ds, c.key, c.hash))
                    hold_rows.append(self._hold_row(c, pk))
                return Verdict(
                    it.index,
                    Outcome.HELD,
                    ds,
                    c.key,
                    message=f"waiting for {c.plan.parent} {pk!r} until "
                    f"{(self.now + self.hold_for).isoformat(timespec='seconds')}",
                )
        state, placement = advance(
            entry.state if entry else None, Version(c.ts, c.hash, c.op == "delete")
        )
        version_no = state.versions
        pending.append(
            {
                "dataset": ds,
                "business_key": c.key,
                "version_no": version_no,
                "op": c.op,
                "content": c.content,
                "content_hash": c.hash,
                "data_timestamp": c.ts,
                "source": it.source,
                "sender_key": it.raw.key,
                "package_id": self.package_id,
                "signer": self.signer,
                "run_id": self.run_id,
                "raw_sha256": it.raw_sha256,
                "record_index": it.index,
                "received_at": self.now,
            }
        )
        have = known.setdefault(k, {})
        have[c.hash] = (None, version_no, it.source)
        if entry is None:
            entry = _Cur(
                state, None, version_no, c.content, it.source, False, True, len(pending) - 1
            )
            entry.fields = it.raw.fields
            cur[k] = entry
        else:
            if state.current.content_hash == c.hash:
                entry.content, entry.source, entry.version_no = c.content, it.source, version_no
                entry.version_id, entry.pending, entry.changed = None, len(pending) - 1, True
                entry.fields = it.raw.fields
            entry.state = state
        pending_cur.append(entry)
        if placement is Placement.CONFLICT:
            conflict_rows.append(
                {
                    "dataset": ds,
                    "business_key": c.key,
                    "data_timestamp": c.ts,
                    "status": "open",
                    "detected_at": self.now,
                }
            )
        return Verdict(it.index, Outcome.ACCEPTED, ds, c.key, version_no, message=placement.value)

    def _hold_row(self, c: _Cand, parent_key: str) -> dict[str, Any]:
        raw = c.item.raw
        envelope = {"dataset": raw.dataset, "op": raw.op, "key": raw.key, "record": raw.fields}
        return {
            "run_id": self.run_id,
            "source": c.item.source,
            "raw_sha256": c.item.raw_sha256,
            "record_index": c.item.index,
            "dataset": c.plan.dataset,
            "business_key": c.key,
            "parent_dataset": c.plan.parent,
            "parent_key": parent_key,
            "content_hash": c.hash,
            "envelope": orjson.dumps(envelope, option=orjson.OPT_SORT_KEYS).decode(),
            "status": "held",
            "received_at": self.now,
            "deadline": self.now + self.hold_for,
        }

    # -- writing -----------------------------------------------------------------------------
    def _write(
        self,
        conn: Connection,
        pending: list[dict[str, Any]],
        pending_fields: list[dict[str, Any]],
        pending_cur: list[_Cur],
        cur: dict[Any, _Cur],
        hold_rows: list[dict[str, Any]],
        conflict_rows: list[dict[str, Any]],
        sightings: list[dict[str, Any]],
    ) -> None:
        if hold_rows:
            conn.execute(HO.insert(), hold_rows)
        ids = reserve_ids(conn, RV, len(pending))
        if pending:
            for row, vid in zip(pending, ids, strict=True):
                row["id"] = vid
            conn.execute(RV.insert(), pending)  # a plain executemany: no RETURNING round trip
        touched = {id(e): e for e in pending_cur}
        rows, refs, stale, claims = [], [], [], []
        key_of = {id(e): k for k, e in cur.items()}
        for e in touched.values():
            ds, key = key_of[id(e)]
            if e.pending is not None:
                e.version_id = ids[e.pending]
                e.pending = None
            assert e.version_id is not None
            st = e.state
            rows.append(
                {
                    "dataset": ds,
                    "business_key": key,
                    "library": self.plans[ds].library,
                    "version_id": e.version_id,
                    "data_timestamp": st.current.data_timestamp,
                    "content_hash": st.current.content_hash,
                    "content": e.content,
                    "deleted": st.current.deleted,
                    "conflict": st.conflict,
                    "versions": st.versions,
                    "source": e.source,
                    "updated_at": self.now,
                }
            )
            if e.changed:
                if e.existed:
                    stale.append({"d": ds, "k": key})
                assert e.fields is not None  # set whenever the current version changes
                refs += [
                    {"dataset": ds, "business_key": key, "field": f, "value": v[:200]}
                    for f, v in self.plans[ds].links(e.fields)
                ]
        upsert(conn, CV, rows, ("dataset", "business_key"))
        if stale:
            rt = table(RecordRef)
            conn.execute(
                rt.delete().where(
                    and_(rt.c.dataset == bindparam("d"), rt.c.business_key == bindparam("k"))
                ),
                stale,
            )
        insert_ignore(conn, table(RecordRef), refs)
        for row, vid, fields in zip(pending, ids, pending_fields, strict=True):
            plan = self.plans[row["dataset"]]
            if plan.entity_code_field is None:
                continue
            code = fields.get(plan.entity_code_field)
            roles = [plan.entity_role] if plan.entity_role else []
            if plan.role_field and fields.get(plan.role_field):
                roles += fields[plan.role_field].split(";")
            for role in dict.fromkeys(r for r in roles if r):
                claims.append(
                    {
                        "code": code,
                        "role": role,
                        "source": row["source"],
                        "dataset": row["dataset"],
                        "name": fields.get("LEGAL_NAME") or fields.get("NAME"),
                        "version_id": vid,
                        "data_timestamp": row["data_timestamp"],
                    }
                )
        if claims:
            upsert(
                conn,
                table(EntityClaim),
                claims,
                ("code", "role", "source", "dataset"),
                where=lambda t, ex: t.c.data_timestamp <= ex.data_timestamp,
            )
        insert_ignore(conn, table(Conflict), conflict_rows)
        insert_ignore(conn, table(Sighting), sightings)

    # -- holds -------------------------------------------------------------------------------
    def _release(self, conn: Connection, parent_keys: list[tuple[str, str]]) -> list[Verdict]:
        """Apply holds waiting for parents that are now known; recursive through apply()."""
        holds = []
        for part in parts(sorted(parent_keys)):
            q = (
                select(HO)
                .where(HO.c.status == "held")
                .where(key_in(HO.c.parent_dataset, HO.c.parent_key, part))
                .order_by(HO.c.id)
            )
            holds += list(conn.execute(q))
        if not holds:
            return []
        items = []
        for h in holds:
            env = orjson.loads(h.envelope)
            raw = RawRecord(
                h.record_index, env["dataset"], env["record"], env.get("op"), env.get("key")
            )
            items.append(Item(h.record_index, raw, [], "jsonl", h.source, h.raw_sha256, h.id))
        for part in parts([h.id for h in holds]):
            conn.execute(
                update(HO).where(HO.c.id.in_(part)).values(status="released", resolved_at=self.now)
            )
        res = self.apply(conn, items)
        return res.verdicts + res.released
