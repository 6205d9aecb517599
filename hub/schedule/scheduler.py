"""Scheduled syncs (the door of ``hub/schedule/``): APScheduler 3 is only the trigger; the
store is the ledger (``ledger``), one tick is ``runner.tick``.

APScheduler 3's defaults drop a run that is more than one second late (misfire grace 1 s)
and would run every missed run when it catches up; here every job has ``coalesce=True`` (many
missed runs become one) and ``misfire_grace_time=None`` (a late run still runs), and at start
the scheduler reads each schedule's last tick from the store: the ticks missed while no
process ran are recorded one by one as ``tick.missed`` events and exactly one catch-up run
reads from the source's watermark.  Several processes may run schedulers on one database:
each tick claims the schedule's row first, so a sync never runs twice at once; a tick that
finds it claimed is recorded as ``tick.skipped`` (busy).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.background import BackgroundScheduler

from hub.config import NodeConfig
from hub.schedule import ledger
from hub.schedule.plan import MAX_MISSED, freshness, make_trigger, period, ticks_between
from hub.schedule.runner import tick
from hub.sections import every_seconds
from hub.store.engine import Store

log = logging.getLogger("hub.schedule")


WATCH = "_watch"  # the job that checks alerts (not a schedule)
FORWARD = "forward:"  # the jobs that forward to a target (not schedules either)


@dataclass(frozen=True)
class Status:
    name: str
    source: str
    when: str
    paused: bool
    paused_reason: str | None
    failures: int
    last_run: datetime | None
    last_success: datetime | None
    next_run: datetime | None
    freshness: str


def statuses(cfg: NodeConfig, store: Store, now: datetime | None = None) -> list[Status]:
    """Every configured schedule with its freshness, computed from the schedule (not from
    runs): late after one missed period, failing after two."""
    now = now or datetime.now(UTC)
    ledger.ensure(store, list(cfg.schedules), now)
    out = []
    with store.read() as conn:
        for name, s in sorted(cfg.schedules.items()):
            st = ledger.state(conn, name)
            trig = make_trigger(s, st["last_tick"] or st["first_seen"])
            per = period(trig, now)
            out.append(
                Status(
                    name,
                    s.source,
                    f"every {s.every}" if s.every else f"cron {s.cron} ({s.timezone})",
                    bool(st["paused"]),
                    st["paused_reason"],
                    int(st["failures"]),
                    st["last_run"],
                    st["last_success"],
                    None if st["paused"] else trig.get_next_fire_time(None, now),
                    "paused"
                    if st["paused"]
                    else freshness(st["last_success"], st["first_seen"], per, now),
                )
            )
    return out


class Scheduler:
    """The schedules of one node, run in background threads of this process."""

    def __init__(self, cfg: NodeConfig, store: Store, *, syncs: bool = True) -> None:
        self.cfg, self.store, self.syncs = cfg, store, syncs
        self.owner = ledger.owner()
        self.stop_event = threading.Event()
        self.aps = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1},
        )
        self.aps.add_listener(self._missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)

    def start(self) -> None:
        now = datetime.now(UTC)
        self.aps.add_job(
            self._watch,
            "interval",
            seconds=self.cfg.alerts.check_seconds,
            id=WATCH,
            next_run_time=now,
        )
        ledger.ensure(self.store, list(self.cfg.schedules), now)
        for name, s in self.cfg.schedules.items() if self.syncs else ():
            with self.store.read() as conn:
                st = ledger.state(conn, name)
            anchor = st["last_tick"] or st["first_seen"]
            trig = make_trigger(s, anchor)
            if self._sweep(name, trig, anchor, st, now):
                self.aps.add_job(self._tick, args=[name, "catch-up"], id=f"{name}:catch-up")
            self.aps.add_job(self._tick, trig, args=[name, "tick"], id=name, name=name)
        for name, t in self.cfg.forward.items() if self.syncs else ():
            self.aps.add_job(
                self._forward,
                "interval",
                seconds=every_seconds(t.every),
                args=[name],
                id=f"{FORWARD}{name}",
                next_run_time=now,
            )
        self.aps.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.aps.shutdown(wait=True)

    def _sweep(self, name: str, trig: Any, anchor: datetime, st: Any, now: datetime) -> bool:
        """Record the ticks missed while nobody ran; True when one catch-up run is due."""
        missed = ticks_between(trig, anchor, now) if st["last_tick"] else []
        stale = st["last_success"] is not None and now - st["last_success"] > period(trig, now)
        if missed:
            with self.store.write() as conn:
                for t in missed[:MAX_MISSED]:
                    ledger.event(conn, name, "tick.missed", t, why="no process was running")
                if len(missed) > MAX_MISSED:
                    ledger.event(conn, name, "tick.missed", None, more="over 1000 ticks")
        return bool(missed or stale) and not st["paused"]

    def _tick(self, name: str, why: str) -> None:
        try:
            outcome = tick(self.cfg, self.store, name, self.owner, stop=self.stop_event)
            log.info("schedule %s (%s): %s", name, why, outcome)
        except Exception:  # a tick must never take the scheduler down; the log says why
            log.exception("schedule %s: the tick failed", name)

    def _forward(self, name: str) -> None:
        """One forwarding pass to target ``name`` (hub.forward): its lease keeps it to one
        process at a time, its breaker (in the store) to one try while the target is down."""
        from hub.forward import forward  # noqa: PLC0415

        try:
            p = forward(self.cfg, self.store, name, who=self.owner)
            if p.packages or p.status not in ("done", "busy"):
                log.info(
                    "forward %s: %s, %s, %d package(s)", name, p.status, p.ops, len(p.packages)
                )
        except Exception:  # forwarding must never take the scheduler down; the log says why
            log.exception("forward %s: the pass failed", name)

    def _watch(self) -> None:
        """Look for alerts and send new ones to the webhook (hub.watch); evaluate the
        supervision rule packs on new runs (hub.supervise)."""
        from hub.watch.alerts import check  # noqa: PLC0415
        from hub.watch.notify import notify  # noqa: PLC0415

        try:
            new = check(self.cfg, self.store)
            if new:
                log.warning("%d new alert(s): `hub alerts` lists them", len(new))
            notify(self.cfg, self.store)
        except Exception:  # watching must never take the scheduler down
            log.exception("the alert check failed")
        try:  # the supervision rule packs, on what arrived since the last look
            from hub.supervise.findings import check as supervise  # noqa: PLC0415

            found = supervise(self.store)
            if found.opened:
                log.warning("%d new finding(s): `hub findings` lists them", found.opened)
        except Exception:
            log.exception("the supervision check failed")

    def _missed(self, event: JobExecutionEvent) -> None:
        if event.job_id == WATCH or event.job_id.startswith(FORWARD):
            return
        name = event.job_id.split(":")[0]
        why = "still running" if event.code == EVENT_JOB_MAX_INSTANCES else "too late"
        with self.store.write() as conn:
            ledger.event(conn, name, "tick.skipped", event.scheduled_run_time, why=why)
