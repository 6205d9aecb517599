"""Is the node alive, ready, and how is it doing: /healthz, /readyz and Prometheus /metrics.

The metrics are read from the store when Prometheus scrapes (a custom collector), so every
process serving one database reports the same figures: runs and records by outcome per
source, the last run's duration, the open work (quarantine, holds, conflicts), schedules'
failures and freshness, and the days left on the signing certificate.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select, text

from hub.config import NodeConfig
from hub.package.build import SigningIdentity
from hub.store.engine import Store
from hub.store.migrate import current_revision, head_revision
from hub.store.models import Conflict, Hold, Quarantine, SyncRun

OUTCOMES = ("accepted", "rejected", "quarantined", "held", "duplicate")


class StoreCollector(Collector):
    def __init__(self, cfg: NodeConfig, db: Store, who: SigningIdentity) -> None:
        self.cfg, self.db, self.who = cfg, db, who

    def collect(self) -> Iterator[Metric]:
        runs = CounterMetricFamily(
            "hub_runs", "Sync runs by source and status", labels=["source", "status"]
        )
        recs = CounterMetricFamily(
            "hub_records", "Records by source and outcome", labels=["source", "outcome"]
        )
        last = GaugeMetricFamily(
            "hub_last_run_duration_seconds", "Duration of the last finished run", labels=["source"]
        )
        depth = GaugeMetricFamily("hub_open_items", "Work waiting for people", labels=["kind"])
        with self.db.read() as conn:
            for src, status, n in conn.execute(
                select(SyncRun.source, SyncRun.status, func.count()).group_by(
                    SyncRun.source, SyncRun.status
                )
            ):
                runs.add_metric([src, status], n)
            sums = [func.coalesce(func.sum(getattr(SyncRun, o)), 0) for o in OUTCOMES]
            for src, *vals in conn.execute(select(SyncRun.source, *sums).group_by(SyncRun.source)):
                for o, v in zip(OUTCOMES, vals, strict=True):
                    recs.add_metric([src, o], int(v))
            latest = (
                select(SyncRun.source, func.max(SyncRun.id).label("id"))
                .where(SyncRun.finished_at.is_not(None))
                .group_by(SyncRun.source)
                .subquery()
            )
            for src, started, finished in conn.execute(
                select(SyncRun.source, SyncRun.started_at, SyncRun.finished_at).join(
                    latest, latest.c.id == SyncRun.id
                )
            ):
                if finished is not None:
                    last.add_metric([src], (finished - started).total_seconds())
            for kind, model, where in (
                ("quarantine", Quarantine, Quarantine.status == "open"),
                ("held", Hold, Hold.status == "held"),
                ("conflicts", Conflict, Conflict.status == "open"),
            ):
                waiting = conn.execute(select(func.count()).select_from(model).where(where))
                depth.add_metric([kind], int(waiting.scalar() or 0))
        yield from (runs, recs, last, depth)
        cert = GaugeMetricFamily(
            "hub_certificate_days_left", "Days until a certificate expires", labels=["certificate"]
        )
        from hub.watch.alerts import certificates  # noqa: PLC0415

        now = datetime.now(UTC)
        for what, ends, _ in certificates(self.cfg):  # signing certificate, CAs, CRLs' next update
            cert.add_metric([what], (ends - now).total_seconds() / 86400)
        yield cert
        yield from self._schedules()
        yield from self._alerts()

    def _alerts(self) -> Iterator[Metric]:
        from hub.watch.alerts import listing  # noqa: PLC0415

        gauge = GaugeMetricFamily(
            "hub_alerts_open", "Open alerts by kind and level", labels=["kind", "level", "seen"]
        )
        n: dict[tuple[str, str, str], int] = {}
        for a in listing(self.db, limit=10_000):
            k = (a["kind"], a["level"], "yes" if a["seen_at"] else "no")
            n[k] = n.get(k, 0) + 1
        for k, v in sorted(n.items()):
            gauge.add_metric(list(k), v)
        yield gauge

    def _schedules(self) -> Iterator[Metric]:
        if not self.cfg.schedules:
            return
        from hub.schedule.scheduler import statuses  # noqa: PLC0415

        fails = GaugeMetricFamily(
            "hub_schedule_failures", "Failed ticks in a row", labels=["schedule", "source"]
        )
        fresh = GaugeMetricFamily(
            "hub_schedule_freshness",
            "1 for the schedule's freshness state (ok, new, late, failing, paused)",
            labels=["schedule", "state"],
        )
        for s in statuses(self.cfg, self.db):
            fails.add_metric([s.name, s.source], s.failures)
            for state in ("ok", "new", "late", "failing", "paused"):
                fresh.add_metric([s.name, state], 1 if s.freshness == state else 0)
        yield fails
        yield fresh


def health_router(cfg: NodeConfig, db: Store, who: SigningIdentity) -> APIRouter:
    r = APIRouter()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(cfg, db, who))

    @r.get("/healthz", summary="The process is alive")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @r.get("/readyz", summary="The store answers at this hub's schema; the certificate holds")
    def readyz() -> Any:
        problems = []
        try:
            with db.read() as conn:
                conn.execute(text("SELECT 1"))
            cur, head = current_revision(db), head_revision(db)
            if cur != head:
                problems.append(f"store schema {cur}, this hub needs {head}: hub db upgrade")
        except Exception as exc:  # any store failure means: not ready
            problems.append(f"store: {type(exc).__name__}: {exc}"[:300])
        if who.cert.not_after <= datetime.now(UTC):
            problems.append("the signing certificate has expired")
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return {"status": "ready"}

    @r.get("/metrics", summary="Prometheus metrics", response_class=Response)
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")

    return r
