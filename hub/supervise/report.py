"""``hub quality --report out.html``: one self-contained page (inline CSS and SVG, no script,
nothing fetched) with the quality of each source: the dimensions of its latest month as bars
against the 98% that provinces ask, every month in a table, and the drill-down behind each
score — the field paths and rule ids that failed, the supervision findings by rule, and the
sections whose later stages are missing."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Connection, func, select

from hub.store.models import Finding, IssueRow, SyncRun, table
from hub.supervise.coverage import STAGES, Coverage

ISSUE, F, RUN = table(IssueRow), table(Finding), table(SyncRun)
TARGET = 0.98  # Guizhou scores 全面性, 完整性, 合规性, 准确性, 修复率 each above 98%
DIMENSIONS = [("comprehensiveness", "全面性"), ("completeness", "完整性"),
              ("compliance", "合规性"), ("accuracy", "准确性"), ("timeliness", "及时性"),
              ("repair_rate", "修复率")]  # fmt: skip
TOP = 15


def _runs(since: dt.datetime | None, until: dt.datetime | None) -> Any:
    q = select(RUN.c.id)
    if since:
        q = q.where(RUN.c.started_at >= since)
    if until:
        q = q.where(RUN.c.started_at < until)
    return q


def _issues(conn: Connection, sources: set[str], runs: Any) -> dict[str, list[dict[str, Any]]]:
    """The most frequent failures per source: data set, field, rule, count, one value."""
    q = (
        select(ISSUE.c.source, ISSUE.c.dataset, ISSUE.c.field, ISSUE.c.rule, ISSUE.c.outcome,
               func.count().label("n"), func.min(ISSUE.c.value).label("value"))
        .where(ISSUE.c.run_id.in_(runs), ISSUE.c.source.in_(sources))
        .group_by(ISSUE.c.source, ISSUE.c.dataset, ISSUE.c.field, ISSUE.c.rule, ISSUE.c.outcome)
    )  # fmt: skip
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute(q).all():
        out[r.source].append(dict(r._mapping))
    return {s: sorted(v, key=lambda x: -x["n"])[:TOP] for s, v in out.items()}


def _findings(conn: Connection, sources: set[str]) -> dict[str, list[dict[str, Any]]]:
    q = (
        select(F.c.source, F.c.rule, F.c.severity, func.count().label("n"),
               func.min(F.c.message).label("example"))
        .where(F.c.status != "cleared", F.c.source.in_(sources))
        .group_by(F.c.source, F.c.rule, F.c.severity)
    )  # fmt: skip
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in conn.execute(q).all():
        out[r.source].append(dict(r._mapping))
    return {s: sorted(v, key=lambda x: -x["n"]) for s, v in out.items()}


def _bars(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The SVG bars of one month's dimensions: label, value, width, colour."""
    out = []
    for key, label in DIMENSIONS:
        v = row.get(key)
        ok = v is not None and v >= TARGET
        colour = "#2e7d32" if ok else ("#9e9e9e" if v is None else "#c62828")
        width = 0 if v is None else round(300 * v, 1)
        out.append({"label": label, "value": v, "width": width, "colour": colour})
    return out


def build(
    conn: Connection,
    rows: list[dict[str, Any]],
    cover: dict[str, Coverage],
    *,
    title: str,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    sla_hours: float = 24.0,
) -> str:
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_source[r["source"]].append(r)
    sources = set(by_source) | set(cover)
    runs = _runs(since, until)
    issues, findings = _issues(conn, sources, runs), _findings(conn, sources)
    counties = []
    for s in sorted(sources):
        months = by_source.get(s, [])
        latest: dict[str, Any] = dict(months[-1]) if months else {"source": s, "month": "—"}
        cov = cover.get(s)
        latest["comprehensiveness"] = cov.share if cov else None
        counties.append({
            "source": s, "months": months, "latest": latest, "bars": _bars(latest),
            "coverage": cov, "issues": issues.get(s, []), "findings": findings.get(s, []),
        })  # fmt: skip
    env = Environment(
        loader=PackageLoader("hub.supervise", "templates"),
        autoescape=select_autoescape(["html"]),
    )
    return env.get_template("quality.html").render(
        title=title,
        counties=counties,
        target=TARGET,
        stages=STAGES,
        sla_hours=sla_hours,
        made=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        dimensions=DIMENSIONS,
    )
