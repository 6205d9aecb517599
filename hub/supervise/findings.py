"""Findings: evaluate what arrived, keep what broke a rule with its evidence, let people
review it.

``check`` evaluates the packs against the records of the runs finished since the last check
(a cursor in the store: ``hub serve`` checks every [alerts].check_seconds, ``hub findings
check`` by hand; ``full=True`` evaluates every record).  A pair of records that breaks a rule
opens a finding (one per rule and pair, however often it is evaluated); a pair that passes
now (the record was corrected) clears its open finding.  ``review`` marks a finding reviewed
with a note, in the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, func, insert, select, update

from hub.errors import UsageError
from hub.query.fates import Page, Window, _between, _page
from hub.store import audit
from hub.store.engine import Store
from hub.store.keyfilter import custom_plans, key_in, parts
from hub.store.models import (
    CurrentRecord,
    Finding,
    SuperviseCursor,
    SyncRun,
    table,
)
from hub.supervise.engine import collector_paused, evaluate, fields_read
from hub.supervise.pack import Pack, load_packs
from hub.supervise.reading import Key, Looked
from hub.supervise.seen import BATCH, touched

F, CURSOR, RUN = table(Finding), table(SuperviseCursor), table(SyncRun)
CUR = table(CurrentRecord)
CURSOR_NAME = "findings"


@dataclass
class Checked:
    runs: int  # runs whose records were evaluated
    looked: int  # (rule, record pair) judged
    opened: int
    cleared: int


def _runs(conn: Connection, after: int) -> list[int]:
    """Runs finished after run ``after``; a run still going holds the cursor back (its
    records are judged once it has finished)."""
    going = conn.execute(
        select(func.min(RUN.c.id)).where(RUN.c.id > after, RUN.c.status == "running")
    ).scalar()
    q = select(RUN.c.id).where(RUN.c.id > after, RUN.c.status != "running")
    if going is not None:
        q = q.where(RUN.c.id < going)
    return list(conn.execute(q).scalars())


def check(
    store: Store,
    packs: list[Pack] | None = None,
    *,
    full: bool = False,
    now: datetime | None = None,
) -> Checked:
    packs = load_packs() if packs is None else packs
    now = now or datetime.now(UTC)
    with collector_paused(), store.read() as conn:
        custom_plans(conn)
        after = conn.execute(
            select(CURSOR.c.last_run_id).where(CURSOR.c.name == CURSOR_NAME)
        ).scalar()
        runs = _runs(conn, -1 if full else int(after or 0))
        if not runs and not full:
            return Checked(0, 0, 0, 0)  # nothing new: nothing written either
        newest = max(runs, default=int(after or 0))
        if full:  # every current record, and every deleted one
            looked = evaluate(conn, packs, None)
            gone = _deleted(conn)
        else:
            wrote = touched(conn, runs, fields_read(packs))
            looked = evaluate(conn, packs, wrote) if wrote.current or wrote.deleted else []
            gone = list(wrote.deleted)
    opened, cleared = _store(store, looked, now)
    cleared += _clear_deleted(store, gone, now)
    with store.write() as conn:
        row = {"name": CURSOR_NAME, "last_run_id": max(newest, int(after or 0)), "updated_at": now}
        if after is None:
            conn.execute(insert(CURSOR).values(**row))
        else:
            conn.execute(update(CURSOR).where(CURSOR.c.name == CURSOR_NAME).values(**row))
    return Checked(len(runs), len(looked), opened, cleared)


def _deleted(conn: Connection) -> list[Key]:
    """Every deleted record (the senders withdrew them)."""
    q = select(CUR.c.dataset, CUR.c.business_key).where(CUR.c.deleted.is_(True))
    return [(r.dataset, r.business_key) for r in conn.execute(q)]


def _clear_deleted(store: Store, gone: list[Key], now: datetime) -> int:
    """A finding about a record its sender deleted has nothing left to judge: cleared."""
    n = 0
    with store.write() as conn:
        for part in parts(gone, BATCH):
            for side in ((F.c.dataset, F.c.business_key), (F.c.other_dataset, F.c.other_key)):
                n += conn.execute(
                    update(F)
                    .where(key_in(*side, part), F.c.status != "cleared")
                    .values(status="cleared", cleared_at=now)
                ).rowcount
    return n


def _store(store: Store, looked: list[Looked], now: datetime) -> tuple[int, int]:
    opened = cleared = 0
    with store.write() as conn:
        known = _known(conn, looked)
        for x in (x for x in looked if x.broken):
            # opened, opened again after a correction, or its evidence updated; a pair found
            # twice in one evaluation is kept once (the later evidence wins), never inserted
            # twice: that would fail the check on uq_finding at every look
            rid, ds, key, ods, okey = x.ident
            row = known.get(x.ident)
            values = {
                "pack": x.pack, "severity": x.rule.severity, "source": x.end.source,
                "event_day": x.event_day, "message": x.message,
                "evidence": orjson.dumps(x.evidence).decode(),
            }  # fmt: skip
            if row is None:
                fid = conn.execute(insert(F).values(
                    rule=rid, dataset=ds, business_key=key, other_dataset=ods,
                    other_key=okey, status="open", found_at=now, **values,
                ).returning(F.c.id)).scalar_one()  # fmt: skip
                known[x.ident] = (fid, "open")
                opened += 1
            elif row[1] == "cleared":  # broken again after a correction
                conn.execute(update(F).where(F.c.id == row[0]).values(
                    status="open", found_at=now, cleared_at=None, **values))  # fmt: skip
                opened += 1
            else:
                conn.execute(update(F).where(F.c.id == row[0]).values(**values))
        if known:
            cleared = _clear(conn, looked, known, now)
    return opened, cleared


def _clear(
    conn: Connection,
    looked: list[Looked],
    known: dict[tuple[str, ...], tuple[int, str]],
    now: datetime,
) -> int:
    """A kept finding is cleared once: when its pair passed now, or when its record was
    judged whole (complete) by its rule and the pair was not found again."""
    ends = {ident[:3] for ident in known}
    still: set[tuple[str, ...]] = set()
    passed: set[tuple[str, ...]] = set()
    whole: set[tuple[str, ...]] = set()
    for x in looked:
        if (end := (x.rule.id, x.end.dataset, x.end.key)) in ends:
            (still if x.broken else passed).add(x.ident)
            if x.complete:
                whole.add(end)
    n = 0
    for ident, (fid, status) in known.items():
        if status != "cleared" and ident not in still and (ident in passed or ident[:3] in whole):
            conn.execute(update(F).where(F.c.id == fid).values(status="cleared", cleared_at=now))
            n += 1
    return n


def _known(conn: Connection, looked: list[Looked]) -> dict[tuple[str, ...], tuple[int, str]]:
    """The findings already kept for the records judged now: one read per thousand records
    (findings are few; judged pairs are many)."""
    out: dict[tuple[str, ...], tuple[int, str]] = {}
    if conn.execute(select(F.c.id).limit(1)).first() is None:
        return out  # none kept yet (a new node's first check): nothing to read
    for part in parts(sorted({(x.end.dataset, x.end.key) for x in looked}), BATCH):
        for r in conn.execute(
            select(F.c.id, F.c.status, F.c.rule, F.c.dataset, F.c.business_key,
                   F.c.other_dataset, F.c.other_key)
            .where(key_in(F.c.dataset, F.c.business_key, part))
        ):  # fmt: skip
            out[(r.rule, r.dataset, r.business_key, r.other_dataset, r.other_key)] = (
                r.id,
                r.status,
            )
    return out


def listing(
    conn: Connection, w: Window, rule: str | None = None, status: str | None = "open"
) -> Page:
    """Findings, newest first: rule, the record that broke it, the message and evidence."""
    q = select(F)
    if w.scope is not None:
        q = q.where(F.c.source.in_(w.scope))
    if w.source:
        q = q.where(F.c.source == w.source)
    if rule:
        q = q.where(F.c.rule == rule)
    if status:
        q = q.where(F.c.status == status)
    page = _page(conn, _between(q, F.c.found_at, w), F.c.id, w)
    for r in page.rows:
        r["evidence"] = orjson.loads(r["evidence"])
    return page


def about(conn: Connection, dataset: str, key: str) -> list[dict[str, Any]]:
    """Findings that name this record (as the one that broke the rule or the one it was
    measured from), open and reviewed ones."""
    q = select(F).where(
        F.c.status != "cleared",
        ((F.c.dataset == dataset) & (F.c.business_key == key))
        | ((F.c.other_dataset == dataset) & (F.c.other_key == key)),
    )
    return [dict(r._mapping) for r in conn.execute(q.order_by(F.c.id.desc()).limit(100))]


def review(store: Store, finding_id: int, note: str, actor: str) -> dict[str, Any]:
    if not note.strip():
        raise UsageError("say what the review found: --note TEXT")
    now = datetime.now(UTC)
    with store.write() as conn:
        row = conn.execute(select(F.c.id, F.c.status).where(F.c.id == finding_id)).first()
        if row is None:
            raise UsageError(f"no finding {finding_id}; `hub findings` lists them")
        conn.execute(
            update(F)
            .where(F.c.id == finding_id)
            .values(status="reviewed", reviewed_by=actor, reviewed_at=now, note=note[:2000])
        )
        audit.append(conn, actor, "finding.review", str(finding_id), {"note": note[:2000]})
    return {"id": finding_id, "status": "reviewed", "was": row.status}


def counts(conn: Connection) -> dict[str, int]:
    return dict(conn.execute(select(F.c.status, func.count()).group_by(F.c.status)).all())
