"""Scheduled syncs: on time, one run at a time across processes, one catch-up after
downtime with every missed tick listed, retries and auto-pause, and the CLI."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from hub.cli import cli
from hub.config import load_config
from hub.errors import ConfigError
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.schedule import ledger
from hub.schedule.scheduler import Scheduler, statuses
from hub.store.engine import Store, open_store
from hub.store.models import ScheduleEvent, ScheduleState, SyncRun

NOW = datetime.now(UTC)


def _node(tmp_path: Path, url: str, every: str = "1s", **extra: Any) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir(exist_ok=True)
    more = "".join(f"{k} = {json.dumps(v)}\n" for k, v in extra.items())
    cfg = tmp_path / "node.toml"
    cfg.write_text(
        f'[store]\nurl = "{url}"\ndata_dir = "{tmp_path / "data"}"\n'
        f'[sources.county-a]\nadapter = "files"\n[sources.county-a.options]\n'
        f'inbox = "{inbox}"\nmin_age_seconds = 0\n'
        f'[schedules.a-often]\nsource = "county-a"\nevery = "{every}"\n{more}'
    )
    return cfg


def _drop(tmp_path: Path, name: str, n: int, seed: int = 1) -> int:
    records = Generator(seed=seed).batch(n)
    write_batch(records, tmp_path / "inbox" / name, "jsonl")
    return len(records)


def _events(store: Store, kind: str | None = None) -> list[Any]:
    q = select(ScheduleEvent).order_by(ScheduleEvent.id)
    if kind:
        q = q.where(ScheduleEvent.kind == kind)
    with store.read() as conn:
        return list(conn.execute(q))


def _wait(pred: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_schedules_are_checked_when_the_configuration_loads(tmp_path: Path) -> None:
    head = _node(tmp_path, f"sqlite:///{tmp_path / 'h.db'}").read_text().split("[schedules.")[0]
    cfg = tmp_path / "bad.toml"
    for body, says in (
        ('source = "county-a"\n', "exactly one of every"),
        ('source = "county-a"\nevery = "1s"\ncron = "0 2 * * *"\n', "exactly one of every"),
        ('source = "county-a"\nevery = "soon"\n', "is not a period"),
        ('source = "county-a"\ncron = "0 25 * * *"\n', "is not a crontab line"),
        ('source = "county-b"\nevery = "1s"\n', "did you mean 'county-a'"),
    ):
        cfg.write_text(head + "[schedules.x]\n" + body)
        with pytest.raises(ConfigError) as info:
            load_config(cfg)
        assert says in " ".join(info.value.problems), (body, info.value.problems)


def test_a_schedule_every_second_runs_on_time(tmp_path: Path) -> None:
    cfg = load_config(_node(tmp_path, f"sqlite:///{tmp_path / 'h.db'}"))
    store = open_store(cfg)
    n = _drop(tmp_path, "a.jsonl", 1)
    sched = Scheduler(cfg, store)
    sched.start()
    try:
        _wait(lambda: len(_events(store, "run.done")) >= 3, 10)
    finally:
        sched.stop()
    done = _events(store, "run.done")
    # the ticks' start times (a run's end also moves with how long it took: the first run
    # ingests the file, the later ones find nothing, so their ends came 0.2 s apart once)
    gaps = [(b.tick - a.tick).total_seconds() for a, b in itertools.pairwise(done)]
    assert all(0.5 < g < 2.5 for g in gaps), gaps  # every second, give or take
    with store.read() as conn:
        runs = list(conn.execute(select(SyncRun.records_in, SyncRun.accepted)))
    assert runs == [(n, n)]  # the file once; later ticks found nothing new
    [row] = statuses(cfg, store)
    assert row.freshness == "ok" and row.failures == 0
    store.dispose()


def test_after_downtime_one_catch_up_run_and_every_missed_tick_listed(tmp_path: Path) -> None:
    cfg = load_config(_node(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", every="1m"))
    store = open_store(cfg)
    now = datetime.now(UTC)
    ledger.ensure(store, ["a-often"], now - timedelta(hours=1))
    with store.write() as conn:  # the node ran last ten and a half minutes ago
        conn.execute(
            update(ScheduleState).values(
                last_tick=now - timedelta(minutes=10, seconds=30),
                last_success=now - timedelta(minutes=10, seconds=30),
            )
        )
    assert statuses(cfg, store)[0].freshness == "failing"  # two periods and more behind
    _drop(tmp_path, "late.jsonl", 1)
    sched = Scheduler(cfg, store)
    sched.start()
    try:
        _wait(lambda: _events(store, "run.done"), 10)
        time.sleep(1.5)  # nothing else may run meanwhile: the next tick is a minute away
    finally:
        sched.stop()
    assert len(_events(store, "run.done")) == 1
    missed = _events(store, "tick.missed")
    assert len(missed) == 10 and all(m.tick is not None for m in missed)
    assert statuses(cfg, store)[0].freshness == "ok"
    store.dispose()


def test_failures_retry_then_warn_then_pause_and_resume_by_hand(tmp_path: Path) -> None:
    cfg_path = _node(
        tmp_path, f"sqlite:///{tmp_path / 'h.db'}", retries=1, retry_seconds=0.1, pause_after=2
    )
    cfg = load_config(cfg_path)
    store = open_store(cfg)
    ledger.ensure(store, ["a-often"], NOW - timedelta(days=1))  # past a new source's grace
    (tmp_path / "inbox").rmdir()  # the source's inbox is gone: every run fails
    sched = Scheduler(cfg, store)
    sched.start()
    try:
        _wait(lambda: _events(store, "auto-paused"), 15)
        time.sleep(1.2)
    finally:
        sched.stop()
    kinds = [e.kind for e in _events(store)]
    assert kinds.count("run.failed") == 2 and "run.retry" in kinds and "warning" in kinds
    assert kinds.index("warning") < kinds.index("auto-paused")
    assert "tick.skipped" in kinds[kinds.index("auto-paused") :]  # paused: ticks skipped
    [row] = statuses(cfg, store)
    assert row.paused and row.freshness == "paused" and "inbox" in (row.paused_reason or "")
    store.dispose()
    res = CliRunner().invoke(cli, ["schedule", "resume", "a-often", "--config", str(cfg_path)])
    assert res.exit_code == 0, res.output
    listed = CliRunner().invoke(
        cli, ["schedule", "list", "--config", str(cfg_path), "--format", "json"]
    )
    [row2] = json.loads(listed.output)
    assert row2["paused"] is False and row2["failures"] == 0
    audit = CliRunner().invoke(
        cli, ["audit", "list", "--action", "schedule.resume", "--config", str(cfg_path)]
    )
    assert "a-often" in audit.output


def test_run_now_and_list_from_the_cli(tmp_path: Path) -> None:
    cfg_path = _node(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", every="1h")
    n = _drop(tmp_path, "now.jsonl", 1)
    res = CliRunner().invoke(cli, ["run", "a-often", "--config", str(cfg_path)])
    assert res.exit_code == 0 and "done" in res.output, res.output
    wide = CliRunner(env={"COLUMNS": "200"})
    listed = wide.invoke(cli, ["schedule", "list", "--config", str(cfg_path)])
    assert "a-often" in listed.output and "every 1h" in listed.output and "ok" in listed.output
    typo = CliRunner().invoke(cli, ["run", "a-oftn", "--config", str(cfg_path)])
    assert typo.exit_code == 2 and "did you mean 'a-often'" in typo.output
    store = open_store(load_config(cfg_path))
    with store.read() as conn:
        assert conn.execute(select(SyncRun.accepted)).scalars().all() == [n]
    store.dispose()


_SERVE = """
import sys, time
from pathlib import Path
from hub.config import load_config
from hub.schedule.scheduler import Scheduler
from hub.store.engine import open_store
cfg = load_config(Path(sys.argv[1]))
s = Scheduler(cfg, open_store(cfg, migrate=False))
s.start()
time.sleep(float(sys.argv[2]))
s.stop()
"""


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # scale-out's store
def test_two_processes_on_one_database_never_run_a_sync_twice_at_once(
    tmp_path: Path, database_url: str
) -> None:
    cfg_path = _node(tmp_path, database_url)
    cfg = load_config(cfg_path)
    store = open_store(cfg)
    try:
        ledger.ensure(store, ["a-often"], NOW)
        n = _drop(tmp_path, "big.jsonl", 250)  # a run of a few seconds: ticks meet it running
        procs = [
            subprocess.Popen([sys.executable, "-c", _SERVE, str(cfg_path), "6"]) for _ in range(2)
        ]
        for p in procs:
            assert p.wait(60) == 0
        started = _events(store, "run.started")
        busy = [e for e in _events(store, "tick.skipped") if '"busy"' in e.detail]
        assert busy  # a tick found the schedule claimed and did nothing
        owners = {json.loads(e.detail)["owner"] for e in [*started, *busy]}
        assert len(owners) == 2  # both processes ticked on the one schedule
        ends = _events(store, "run.done") + _events(store, "run.failed")
        spans = sorted(
            (s.at, min(e.at for e in ends if e.id > s.id and e.name == s.name)) for s in started
        )
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans)), spans
        with store.read() as conn:  # the file was taken once
            assert conn.execute(select(SyncRun.records_in)).scalars().all() == [n]
    finally:
        store.dispose()
