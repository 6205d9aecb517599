"""One tick of a schedule: claim it, run the sync with bounded retries, record what happened,
pause it after repeated failures (with a warning one failure before)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from hub.config import NodeConfig
from hub.errors import HubError
from hub.schedule import ledger
from hub.schedule.plan import make_trigger, period
from hub.store.engine import Store
from hub.sync import sync_source

MAX_RETRY_SECONDS = 3600.0


def tick(
    cfg: NodeConfig,
    store: Store,
    name: str,
    who: str,
    *,
    scheduled: datetime | None = None,
    by_hand: bool = False,
    stop: threading.Event | None = None,
) -> str:
    """Run schedule ``name`` once if nobody else is: done, failed, busy or paused."""
    now = datetime.now(UTC)
    when = scheduled or now
    with store.read() as conn:
        st = ledger.state(conn, name)
    if st["paused"] and not by_hand:
        with store.write() as conn:
            ledger.event(conn, name, "tick.skipped", when, why="paused", reason=st["paused_reason"])
            ledger.set_state(conn, name, last_tick=when)
        return "paused"
    if not ledger.claim(store, name, who, now):
        with store.write() as conn:
            holder = st["claimed_by"]
            ledger.event(conn, name, "tick.skipped", when, why="busy", owner=who, holder=holder)
        return "busy"
    try:
        with store.write() as conn:
            ledger.event(conn, name, "run.started", when, owner=who, by_hand=by_hand)
        error, counts = _run(cfg, store, name, who, stop)
        _record(cfg, store, name, when, error, st, counts)
        return "failed" if error else "done"
    finally:
        ledger.release(store, name, who)


def _run(
    cfg: NodeConfig, store: Store, name: str, who: str, stop: threading.Event | None
) -> tuple[str | None, dict[str, int]]:
    """The sync, tried 1 + retries times with doubling waits: the last error (None: it
    succeeded) and the records it took."""
    s = cfg.schedules[name]
    wait = s.retry_seconds
    renewed = [time.monotonic()]

    def renew(_: int) -> None:  # keep the claim while records flow
        if time.monotonic() - renewed[0] > 60:
            ledger.claim(store, name, who, datetime.now(UTC))
            renewed[0] = time.monotonic()

    error: str | None = None
    counts: dict[str, int] = {}
    for attempt in range(s.retries + 1):
        try:
            report = sync_source(cfg, store, s.source, on_progress=renew)
            error, counts = report.error, report.counts.as_dict()
        except HubError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if error is None:
            return None, counts
        if attempt < s.retries:
            with store.write() as conn:
                ledger.event(conn, name, "run.retry", attempt=attempt + 1, error=error, wait=wait)
            if stop is not None and stop.wait(wait):
                break  # shutting down
            if stop is None:
                time.sleep(wait)
            wait = min(wait * 2, MAX_RETRY_SECONDS)
    return error, counts


def _record(
    cfg: NodeConfig,
    store: Store,
    name: str,
    when: datetime,
    error: str | None,
    st: Any,
    counts: dict[str, int],
) -> None:
    s = cfg.schedules[name]
    now = datetime.now(UTC)
    with store.write() as conn:
        if error is None:
            ledger.set_state(conn, name, failures=0, last_run=now, last_success=now, last_tick=when)
            ledger.event(conn, name, "run.done", when, **{k: v for k, v in counts.items() if v})
            return
        failures = st["failures"] + 1
        values: dict[str, Any] = {"failures": failures, "last_run": now, "last_tick": when}
        ledger.event(conn, name, "run.failed", when, error=error, failures=failures)
        per = period(make_trigger(s, when), now)
        in_grace = st["last_success"] is None and now - st["first_seen"] <= 2 * per
        if in_grace:
            ledger.event(conn, name, "grace", when, note="a new source: failures do not pause it")
        elif failures >= s.pause_after:
            why = f"paused after {failures} failed runs in a row; last: {error}"
            values |= {"paused": True, "paused_reason": why[:2000]}
            ledger.event(conn, name, "auto-paused", when, reason=why)
        elif failures == s.pause_after - 1:
            ledger.event(conn, name, "warning", when, note="one more failure pauses it")
        ledger.set_state(conn, name, **values)
