"""Where every record went: runs, rejected records, holds and conflicts, as pages.

Every list is newest first and keyset-paginated: a page is at most ``limit`` rows below
``before`` (an id from the previous page's ``next_before``), so a page costs the same on
the millionth row as on the first.  Filters: source, and a time window on when the record
arrived (its run's start).  The CLI, the API and the console call these functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, func, select

from hub.errors import UsageError
from hub.store.models import (
    AuditEntry,
    Conflict,
    CurrentRecord,
    Hold,
    IssueRow,
    Quarantine,
    RecordVersion,
    SyncRun,
    table,
)

RUN, ISSUE, HOLD, CONF = table(SyncRun), table(Issue := IssueRow), table(Hold), table(Conflict)
VER, CUR, Q = table(RecordVersion), table(CurrentRecord), table(Quarantine)
COUNT_COLS = ("records_in", "accepted", "rejected", "quarantined", "held", "duplicate")


@dataclass(frozen=True)
class Window:
    """Which rows a list shows: source, arrival window, page size and position."""

    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 50
    before: int | None = None  # keyset: only ids below this
    scope: tuple[str, ...] | None = None  # only these sources (a county's): always applied
    count: bool = False  # also estimate how many rows the whole list has


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_before: int | None  # pass as ``before`` for the next page; None: this was the last
    total: int | None = None  # how many rows the whole list has (Window.count) ...
    total_exact: bool = True  # ... counted, or the planner's estimate / a lower bound

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "next_before": self.next_before,
            "total": self.total,
            "total_exact": self.total_exact,
        }


EXACT_UP_TO = 10_000  # lists up to this are counted; longer ones are estimated


def estimate(conn: Connection, q: Select[Any]) -> tuple[int, bool]:
    """How many rows ``q`` gives: counted when at most EXACT_UP_TO; beyond, PostgreSQL's
    planner estimate (EXPLAIN: no scan of a ten-million-row table), or on SQLite the bound."""
    n = conn.execute(select(func.count()).select_from(q.limit(EXACT_UP_TO + 1).subquery()))
    counted = int(n.scalar() or 0)
    if counted <= EXACT_UP_TO:
        return counted, True
    if conn.dialect.name == "postgresql":
        c = q.compile(dialect=conn.dialect)
        plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {c}", c.params).scalar()
        return max(int(plan[0]["Plan"]["Plan Rows"]), counted), False  # type: ignore[index]
    return counted, False


def _page(conn: Connection, q: Select[Any], id_col: Any, w: Window) -> Page:
    total: tuple[int | None, bool] = estimate(conn, q) if w.count else (None, True)
    if w.before is not None:
        q = q.where(id_col < w.before)
    rows = [dict(r._mapping) for r in conn.execute(q.order_by(id_col.desc()).limit(w.limit + 1))]
    more = len(rows) > w.limit
    rows = rows[: w.limit]
    return Page(rows, rows[-1]["id"] if more and rows else None, *total)


def _window(q: Select[Any], w: Window, source_col: Any) -> Select[Any]:
    if w.scope is not None:
        q = q.where(source_col.in_(w.scope))
    if w.source:
        q = q.where(source_col == w.source)
    return _between(q, RUN.c.started_at, w)


def _between(q: Select[Any], when: Any, w: Window) -> Select[Any]:
    """Rows whose time ``when`` falls in the window's [since, until)."""
    if w.since:
        q = q.where(when >= w.since)
    if w.until:
        q = q.where(when < w.until)
    return q


def runs(conn: Connection, w: Window) -> Page:
    """Sync runs with their counts and the most frequent reason records were not taken."""
    q = _window(select(RUN), w, RUN.c.source)
    page = _page(conn, q, RUN.c.id, w)
    ids = [r["id"] for r in page.rows]
    if ids:
        top: dict[int, tuple[str, int]] = {}
        for run_id, rule, n in conn.execute(
            select(ISSUE.c.run_id, ISSUE.c.rule, func.count())
            .where(ISSUE.c.run_id.in_(ids), ISSUE.c.outcome.in_(("rejected", "quarantined")))
            .group_by(ISSUE.c.run_id, ISSUE.c.rule)
        ):
            if n > top.get(run_id, ("", 0))[1]:
                top[run_id] = (rule, n)
        for r in page.rows:
            rule, n = top.get(r["id"], (None, 0))
            r["top_reason"] = f"{rule} ({n})" if rule else None
    return page


def _what(t: Any) -> list[Any]:
    """What an issue says about a record: where, which field, which rule, what value."""
    names = ("record_index", "dataset", "business_key", "field", "rule", "value", "message")
    return [t.c[n] for n in names]


def run_detail(conn: Connection, run_id: int, limit: int = 1000) -> dict[str, Any]:
    """One run: its counts and every issue of the records it did not take."""
    run = conn.execute(select(RUN).where(RUN.c.id == run_id)).one_or_none()
    if run is None:
        raise UsageError(f"no run {run_id}; `hub runs` lists them")
    issues = [
        dict(r._mapping)
        for r in conn.execute(
            select(*_what(ISSUE), ISSUE.c.severity, ISSUE.c.outcome)
            .where(ISSUE.c.run_id == run_id)
            .order_by(ISSUE.c.record_index, ISSUE.c.id)
            .limit(limit)
        )
    ]
    total = conn.execute(
        select(func.count()).select_from(ISSUE).where(ISSUE.c.run_id == run_id)
    ).scalar_one()
    return {"run": dict(run._mapping), "issues": issues, "issues_total": int(total)}


def rejected(
    conn: Connection, w: Window, rule: str | None = None, dataset: str | None = None
) -> Page:
    """Issues of rejected records (rule, field, value, message), newest first."""
    q = _window(
        select(
            ISSUE.c.id,
            ISSUE.c.run_id,
            RUN.c.started_at.label("arrived"),
            ISSUE.c.source,
            *_what(ISSUE),
        )
        .join(RUN, RUN.c.id == ISSUE.c.run_id)
        .where(ISSUE.c.outcome == "rejected", ISSUE.c.severity == "error"),
        w,
        ISSUE.c.source,
    )
    if rule:
        q = q.where(ISSUE.c.rule == rule)
    if dataset:
        q = q.where(ISSUE.c.dataset == dataset)
    return _page(conn, q, ISSUE.c.id, w)


def _listing(tbl: Any, cols: Sequence[str], w: Window, status: str | None) -> Select[Any]:
    """Rows of a table with ``run_id``, ``source`` and ``status``: windowed on its run."""
    q = select(*(tbl.c[c] for c in cols)).join(RUN, RUN.c.id == tbl.c.run_id)
    q = _window(q, w, tbl.c.source)
    if status:
        q = q.where(tbl.c.status == status)
    return q


def held(conn: Connection, w: Window, status: str | None = "held") -> Page:
    """Held records: what they wait for and until when."""
    cols = [
        "id",
        "run_id",
        "source",
        "dataset",
        "business_key",
        "parent_dataset",
        "parent_key",
        "status",
    ]
    cols += ["received_at", "deadline", "resolved_at"]
    return _page(conn, _listing(HOLD, cols, w, status), HOLD.c.id, w)


def quarantine(conn: Connection, w: Window, status: str | None = "open") -> Page:
    """Quarantined records with their reason (the whole message)."""
    cols = ["id", "status", "source", "run_id", "dataset", "record_index", "rule", "message"]
    cols += ["created_at", "resolution", "note"]
    return _page(conn, _listing(Q, cols, w, status), Q.c.id, w)


def quarantined(conn: Connection, qid: int) -> dict[str, Any] | None:
    """One quarantine row, whole (the raw record too), with its record's issues."""
    row = conn.execute(select(Q).where(Q.c.id == qid)).one_or_none()
    if row is None:
        return None
    q = dict(row._mapping)
    q["issues"] = [
        dict(r._mapping)
        for r in conn.execute(
            select(*_what(ISSUE), ISSUE.c.severity)
            .where(ISSUE.c.run_id == q["run_id"], ISSUE.c.record_index == q["record_index"])
            .order_by(ISSUE.c.id)
        )
    ]
    return q


def audit_entries(conn: Connection, w: Window, action: str | None = None) -> Page:
    """The audit log, newest first (``hub audit verify`` checks its chain); the window's
    source is the actor (a source, a sender's platform code, or ``cli:USER``)."""
    t = table(AuditEntry)
    q = select(t.c.id, t.c.at, t.c.actor, t.c.action, t.c.subject, t.c.detail)
    if w.source:
        q = q.where(t.c.actor == w.source)
    if action:
        q = q.where(t.c.action == action)
    return _page(conn, _between(q, t.c.at, w), t.c.id, w)


def earlier_runs(conn: Connection, raw_sha256: str, before: int) -> list[int]:
    """Runs that took the same bytes before run ``before`` (a re-sent batch)."""
    q = select(RUN.c.id).where(RUN.c.raw_sha256 == raw_sha256, RUN.c.id < before)
    return list(conn.execute(q.order_by(RUN.c.id)).scalars())
