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
    cols = ("records_in", "accepted", "rejected", "quarantined", "held", "duplicate")
    sources = []
    for r in conn.execute(
        select(
            SyncRun.source,
            func.count(),
            *[func.sum(getattr(SyncRun, c)) for c in cols],
            func.max(SyncRun.started_at),
        )
        .group_by(SyncRun.source)
        .order_by(SyncRun.source)
    ):
        row = {"source": r[0], "runs": int(r[1])}
        row |= {c: int(r[2 + i] or 0) for i, c in enumerate(cols)}
        bad = row["rejected"] + row["quarantined"]
        row["issue_rate"] = round(bad / row["records_in"], 4) if row["records_in"] else 0.0
        row["last_run"] = r[-1]
        sources.append(row)
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
