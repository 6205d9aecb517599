"""The sources at a glance: for the console's first page and GET /v1/sources."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select

from hub.config import NodeConfig
from hub.store.engine import Store
from hub.store.models import SyncRun, table

RUN = table(SyncRun)
SUMS = ("records_in", "accepted", "rejected", "quarantined", "held", "duplicate")


def sources(cfg: NodeConfig, db: Store, scope: tuple[str, ...] | None) -> list[dict[str, Any]]:
    """Every configured source and every sender that pushed: counts over all runs, the last
    run, and the schedule's next run and freshness (computed from the schedule)."""
    from hub.schedule.scheduler import statuses  # noqa: PLC0415

    sched = {s.source: asdict(s) for s in statuses(cfg, db)} if cfg.schedules else {}
    with db.read() as conn:
        q = select(
            RUN.c.source,
            func.count().label("runs"),
            func.max(RUN.c.id).label("last_id"),
            *[func.coalesce(func.sum(RUN.c[c]), 0).label(c) for c in SUMS],
        ).group_by(RUN.c.source)
        if scope is not None:
            q = q.where(RUN.c.source.in_(scope))
        totals = {r.source: dict(r._mapping) for r in conn.execute(q)}
        ids = [t["last_id"] for t in totals.values()]
        last = {
            r.source: dict(r._mapping)
            for r in conn.execute(
                select(
                    RUN.c.source, RUN.c.id, RUN.c.status, RUN.c.started_at, RUN.c.finished_at
                ).where(RUN.c.id.in_(ids))
            )
        }
    names = set(totals) | {n for n in cfg.sources if scope is None or n in scope}
    out = []
    for name in sorted(names):
        t = totals.get(name, dict.fromkeys(SUMS, 0) | {"runs": 0})
        s = sched.get(name)
        src = cfg.sources.get(name)
        out.append(
            {
                "name": name,
                "adapter": src.adapter if src else "not configured (pushed or hub ingest)",
                "platform_code": src.platform_code if src else name,
                **{c: int(t[c]) for c in (*SUMS, "runs")},
                "issue_rate": (t["rejected"] + t["quarantined"]) / t["records_in"]
                if t["records_in"]
                else None,
                "last": last.get(name),
                "schedule": s,
                "freshness": s["freshness"] if s else "unscheduled",
            }
        )
    return out
