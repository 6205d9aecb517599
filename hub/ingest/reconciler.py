"""Reconcile one chunk of validated records into the store, inside the caller's transaction.

Per record: errors → REJECTED (coded) or QUARANTINED (raw kept); a known content for the key
→ DUPLICATE; a version whose parent is unknown → HELD (with a deadline); otherwise a new
immutable version, placed by ``hub.reconcile.decide`` (current, history, or conflict).
Parents are applied before children within a chunk; holds whose parent became known are
released (recursively) before the transaction commits.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Connection

from hub.dictionary.loader import Dictionary
from hub.ingest.chunk import (
    CLAIM_COLS,
    CONFLICT_COLS,
    CURRENT_COLS,
    HOLD_COLS,
    REF_COLS,
    SIGHTING_COLS,
    VERSION_COLS,
    Cand,
    ChunkResult,
    Cur,
    Item,
    Out,
    claims_of,
    hold_row,
)
from hub.ingest.known import (
    by_sender_key,
    load_current,
    load_hashes,
    load_parents,
    load_waiting,
)
from hub.ingest.outcome import Counts, Outcome, Verdict
from hub.ingest.screen import screen
from hub.reconcile.decide import Placement, Version, advance
from hub.reconcile.keys import key_plans
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
from hub.validation.guards import CST
from hub.validation.issues import Issue

CV, RV, HO = table(CurrentRecord), table(RecordVersion), table(Hold)


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
        cands: list[tuple[int, Cand]] = []
        db = Bulk(conn)
        by_sender_key(db, items, self.now.astimezone(CST).strftime("%Y%m%d%H%M%S"))
        for pos, it in enumerate(items):
            cand_or_verdict = screen(self, it, issue_rows, quarantine_rows)
            if isinstance(cand_or_verdict, Verdict):
                verdicts[pos] = cand_or_verdict
            else:
                cands.append((pos, cand_or_verdict))
        cands.sort(key=lambda pc: pc[1].plan.depth)  # parents first (stable)
        keys = {(c.plan.dataset, c.key) for _, c in cands}
        lock_keys(conn, keys)  # other processes writing these keys wait (PostgreSQL)
        cur = load_current(db, keys)
        known = load_hashes(db, cur, cands)
        parents = load_parents(db, cands, cur)
        # most chunks of a healthy feed meet an empty hold table: one probe saves two lookups
        any_held = db.exists("hold", "status = 'held'")
        waiting = load_waiting(db, cands) if any_held else set()
        out = Out()
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

    # -- placing one candidate ------------------------------------------------------------
    def _place(
        self,
        c: Cand,
        cur: dict[Any, Cur],
        known: dict[Any, dict[str, tuple[int | None, int, str]]],
        parents: set[tuple[str, str]],
        waiting: set[tuple[str, str, str]],
        out: Out,
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
                    out.holds.append(hold_row(c, pk, self.run_id))
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
            entry = Cur(state, None, version_no, it.source, False, True, slot, p.links)
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

    # -- writing -----------------------------------------------------------------------------
    def _write(self, db: Bulk, out: Out, cur: dict[Any, Cur]) -> None:
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
            claims_of(out, ids),
            CLAIM_COLS[:4],
            where="entity_claim.data_timestamp <= excluded.data_timestamp",
        )
        db.insert(
            "conflict", CONFLICT_COLS, [(*c, "open", now) for c in out.conflicts], ignore=True
        )
        db.insert("sighting", SIGHTING_COLS, [(*x, now) for x in out.sightings], ignore=True)

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
