"""Counts per library, data set and source, and issue rates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, func, select

from hub.store.models import (
    Conflict,
    CurrentRecord,
    Hold,
    IssueRow,
    Quarantine,
    RecordVersion,
    SyncRun,
)


def stats(conn: Connection) -> dict[str, Any]:
    live = case((CurrentRecord.deleted.is_(False), 1), else_=0)
    dead = case((CurrentRecord.deleted.is_(True), 1), else_=0)
    conf = case((CurrentRecord.conflict.is_(True), 1), else_=0)
    libraries = [
        {"library": r[0], "records": int(r[1]), "deleted": int(r[2]), "conflicts": int(r[3])}
        for r in conn.execute(
            select(CurrentRecord.library, func.sum(live), func.sum(dead), func.sum(conf))
            .group_by(CurrentRecord.library)
            .order_by(CurrentRecord.library)
        )
    ]
    versions = dict(
        conn.execute(
            select(RecordVersion.dataset, func.count()).group_by(RecordVersion.dataset)
        ).all()
    )
    errors = dict(
        conn.execute(
            select(IssueRow.dataset, func.count())
            .where(IssueRow.severity == "error")
            .group_by(IssueRow.dataset)
        ).all()
    )
    datasets = [
        {
            "dataset": r[0],
            "library": r[1],
            "records": int(r[2]),
            "versions": int(versions.get(r[0], 0)),
            "error_issues": int(errors.get(r[0], 0)),
        }
        for r in conn.execute(
            select(CurrentRecord.dataset, CurrentRecord.library, func.sum(live))
            .group_by(CurrentRecord.dataset, CurrentRecord.library)
            .order_by(CurrentRecord.library, CurrentRecord.dataset)
        )
    ]
    sources = _sources(conn)
    rules = [
        {"rule": r[0], "issues": int(r[1])}
        for r in conn.execute(
            select(IssueRow.rule, func.count())
            .group_by(IssueRow.rule)
            .order_by(func.count().desc())
            .limit(20)
        )
    ]
    open_items = {
        "quarantine": _count(conn, Quarantine, Quarantine.status == "open"),
        "holds": _count(conn, Hold, Hold.status == "held"),
        "conflicts": _count(conn, Conflict, Conflict.status == "open"),
    }
    return {
        "libraries": libraries,
        "datasets": datasets,
        "sources": sources,
        "rules": rules,
        "open": open_items,
    }


def _count(conn: Connection, model: Any, *where: Any) -> int:
    return int(conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def _sources(conn: Connection) -> list[dict[str, Any]]:
    """Per source, distinct records: a re-sent batch adds duplicates, never more rejected,
    held or quarantined.  Arrivals and new versions come from the runs' counters (a version
    is never created twice); rejected records are counted once per (raw batch, position),
    holds and quarantine rows are unique already; every other arrival is a duplicate."""
    per: dict[str, dict[str, Any]] = {}
    for src, n, rin, acc, last in conn.execute(
        select(
            SyncRun.source,
            func.count(),
            func.sum(SyncRun.records_in),
            func.sum(SyncRun.accepted),
            func.max(SyncRun.started_at),
        ).group_by(SyncRun.source)
    ):
        per[src] = {"source": src, "runs": int(n), "records_in": int(rin or 0)}
        per[src] |= {"accepted": int(acc or 0), "last_run": last}
    rejected = (
        select(IssueRow.source, IssueRow.raw_sha256, IssueRow.record_index)
        .where(IssueRow.outcome == "rejected")
        .distinct()
        .subquery()
    )
    distinct = {
        "rejected": select(rejected.c.source, func.count()).group_by(rejected.c.source),
        "quarantined": select(Quarantine.source, func.count()).group_by(Quarantine.source),
        "held": select(Hold.source, func.count()).group_by(Hold.source),
    }
    for name, q in distinct.items():
        found: dict[str, int] = {r[0]: r[1] for r in conn.execute(q)}
        for src, row in per.items():
            row[name] = int(found.get(src, 0))
    for row in per.values():
        taken = row["accepted"] + row["rejected"] + row["quarantined"] + row["held"]
        row["duplicate"] = max(row["records_in"] - taken, 0)
        bad = row["rejected"] + row["quarantined"]
        row["issue_rate"] = round(bad / taken, 4) if taken else 0.0
    return [per[s] for s in sorted(per)]
