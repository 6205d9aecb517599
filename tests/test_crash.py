"""Kill ingest with SIGKILL at random points, re-run, and check nothing was lost or doubled.

For each backend: a reference store ingests the batch once, cleanly.  A second store sees
the same batch ingested by a real ``hub ingest`` process that is killed with SIGKILL at a
random moment, KILLS times over, then run to completion.  Afterwards the two stores must hold
the same current state and the same versions, no content twice, and the store must pass
its integrity checks (SQLite integrity_check, foreign keys, the audit chain, raw objects).
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select, text

from hub.config import NodeConfig, StoreSection
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.store import audit
from hub.store.engine import Store, make_engine, open_store
from hub.store.models import CurrentRecord, Hold, RecordVersion, SyncRun
from tests.conftest import BACKENDS

KILLS = 20
OUTCOMES = ("accepted", "rejected", "quarantined", "held", "duplicate")
CHUNK = 40  # records per commit: many commit points to land between


def _config(tmp_path: Path, name: str, url: str) -> Path:
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(
        f'[store]\nurl = "{url}"\ndata_dir = "{tmp_path / name}"\n\n'
        # validation in a second process even for this small batch: the path large
        # inputs take, and the one with more to go wrong under SIGKILL
        f"[ingest]\nchunk_records = {CHUNK}\nparallel_from_mb = 0\n",
        "utf-8",
    )
    return cfg


def _hub(cfg: Path, batch: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub",
            "ingest",
            str(batch),
            "--source",
            "county-a",
            "--config",
            str(cfg),
            "--format",
            "json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "HUB_DATABASE_URL": ""},
    )


def _no_orphans(batch: Path) -> None:
    """A killed ingest's validation child exits too (its pipe breaks): none is left behind."""
    deadline = time.monotonic() + 10
    while True:
        left = []
        for p in Path("/proc").iterdir():
            if p.name.isdigit():
                try:
                    cmd = (p / "cmdline").read_bytes()
                except OSError:
                    continue
                if str(batch).encode() in cmd:
                    left.append(int(p.name))
        if not left:
            return
        assert time.monotonic() < deadline, f"ingest processes still running: {left}"
        time.sleep(0.1)


def _state(store: Store) -> dict[str, Any]:
    with store.read() as conn:
        current = conn.execute(
            select(
                CurrentRecord.dataset,
                CurrentRecord.business_key,
                CurrentRecord.content_hash,
                CurrentRecord.deleted,
                CurrentRecord.conflict,
                CurrentRecord.versions,
            ).order_by(CurrentRecord.dataset, CurrentRecord.business_key)
        ).all()
        versions = conn.execute(
            select(
                RecordVersion.dataset, RecordVersion.business_key, RecordVersion.content_hash
            ).order_by(
                RecordVersion.dataset, RecordVersion.business_key, RecordVersion.content_hash
            )
        ).all()
        doubled = conn.execute(
            select(RecordVersion.dataset, RecordVersion.business_key, RecordVersion.content_hash)
            .group_by(RecordVersion.dataset, RecordVersion.business_key, RecordVersion.content_hash)
            .having(func.count() > 1)
        ).all()
        holds = conn.execute(
            select(Hold.dataset, Hold.business_key, Hold.content_hash)
            .where(Hold.status == "held")
            .order_by(Hold.dataset, Hold.business_key, Hold.content_hash)
        ).all()
    return {
        "current": [tuple(r) for r in current],
        "versions": [tuple(r) for r in versions],
        "doubled": [tuple(r) for r in doubled],
        "holds": [tuple(r) for r in holds],
    }


def _integrity(store: Store) -> None:
    with store.read() as conn:
        if store.dialect == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM current_record c LEFT JOIN record_version v "
                "ON v.id = c.version_id WHERE v.id IS NULL OR v.content_hash <> c.content_hash "
                "AND c.conflict = false"
            )
        ).scalar()
        assert orphans == 0
        assert audit.verify(conn).broken_at is None
    for obj in store.raw.root.glob("??/*"):
        assert hashlib.sha256(obj.read_bytes()).hexdigest() == obj.parent.name + obj.name


def _last_run(engine: Any) -> tuple[int, int]:
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT id, records_in FROM sync_run ORDER BY id DESC LIMIT 1")
            ).first()
    except Exception:  # the schema does not exist before the first run creates it
        return 0, 0
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _wait_for_progress(engine: Any, p: subprocess.Popen[bytes], after: int, limit: float) -> None:
    """Until the process's own run has committed at least one chunk (or it ended)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and p.poll() is None:
        run_id, records_in = _last_run(engine)
        if run_id > after and records_in:
            return
        time.sleep(0.02)


@pytest.mark.slow
@BACKENDS
def test_sigkill_at_random_points_loses_and_doubles_nothing(
    database_url: str, tmp_path: Path
) -> None:
    gen = Generator(seed=31)
    records = gen.batch(40)
    gen.inject_defects(records, 0.05)
    batch = tmp_path / "batch.jsonl"
    write_batch(records, batch, "jsonl")

    # the reference: one clean run, into its own store (SQLite file beside the test)
    ref_cfg = _config(tmp_path, "ref", f"sqlite:///{tmp_path / 'ref.db'}")
    t0 = time.monotonic()
    done = _hub(ref_cfg, batch)
    _, err = done.communicate(timeout=300)
    clean_seconds = time.monotonic() - t0
    assert done.returncode in (0, 1), err.decode()
    ref = open_store(NodeConfig(store=StoreSection(url=f"sqlite:///{tmp_path / 'ref.db'}")))
    want = _state(ref)
    ref.dispose()
    assert want["versions"] and not want["doubled"]

    cfg = _config(tmp_path, "crash", database_url)
    rng = random.Random(31)
    landed = 0
    watcher = make_engine(database_url)
    for i in range(KILLS):
        before, _ = _last_run(watcher)
        p = _hub(cfg, batch)
        if i % 2 == 0:  # anywhere: start-up, raw store, between or inside commits
            time.sleep(rng.uniform(0.05, clean_seconds))
        else:  # once the run has committed a chunk, so some kills land between commits
            _wait_for_progress(watcher, p, before, clean_seconds * 3)
            time.sleep(rng.uniform(0.0, 0.2))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            landed += 1
        p.communicate(timeout=300)
    watcher.dispose()
    assert landed >= KILLS // 2, f"only {landed} of {KILLS} kills landed mid-run"
    _no_orphans(batch)
    final = _hub(cfg, batch)
    out, err = final.communicate(timeout=300)
    assert final.returncode in (0, 1), err.decode()
    last = orjson.loads(out)
    assert last["records_in"] == len(records)
    assert last["records_in"] == sum(last[k] for k in OUTCOMES)

    store = open_store(
        NodeConfig(store=StoreSection(url=database_url, data_dir=tmp_path / "crash"))
    )
    with store.read() as conn:
        # kills that fell between two commits of a run: that run committed part of the batch
        partial = conn.execute(
            select(func.count())
            .select_from(SyncRun)
            .where(SyncRun.status == "interrupted", SyncRun.records_in > 0)
            .where(SyncRun.records_in < len(records))
        ).scalar_one()
        # the killed runs were marked interrupted by the runs after them: none says running
        running = conn.execute(select(SyncRun.id).where(SyncRun.status == "running")).all()
    assert partial >= 3, f"only {partial} kills landed between commits"
    assert running == []
    got = _state(store)
    _integrity(store)
    store.dispose()
    assert got["doubled"] == []
    assert len(got["versions"]) == len(want["versions"])  # 0 lost, 0 duplicated
    assert got == want


def test_a_full_disk_is_a_clear_error_and_the_same_input_again_completes(tmp_path: Path) -> None:
    """A file-size limit (what a full disk looks like to a process) stops `hub ingest`
    mid-batch with a message that says what happened and what to do, not a crash report;
    the store stays sound, and the same input once there is room completes it."""
    import resource

    gen = Generator(seed=32)
    records = gen.batch(20)
    batch = tmp_path / "batch.jsonl"
    write_batch(records, batch, "jsonl")
    cfg = _config(tmp_path, "full", f"sqlite:///{tmp_path / 'full.db'}")
    limit = batch.stat().st_size + 600_000  # the raw copy fits; the database does not

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    argv = [sys.executable, "-m", "hub", "ingest", str(batch), "--source", "county-a",
            "--config", str(cfg), "--format", "json"]  # fmt: skip
    env = {**os.environ, "HUB_DATABASE_URL": "", "HUB_LOG_DIR": str(tmp_path / "logs")}

    def hub(args: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, env=env, capture_output=True, text=True, check=False, **kw)

    got = hub(argv, preexec_fn=small_disk)
    assert got.returncode == 2, got.stderr
    assert "could not be written" in got.stderr and "free space" in got.stderr, got.stderr
    assert "unexpected failure" not in got.stderr and not (tmp_path / "logs").exists()
    check = hub([sys.executable, "-m", "hub", "db", "check", "--deep", "--config", str(cfg)])
    assert check.returncode == 0, check.stdout + check.stderr
    again = hub(argv)
    assert again.returncode in (0, 1), again.stderr
    out = orjson.loads(again.stdout)
    assert out["records_in"] == len(records) == sum(out[k] for k in OUTCOMES)
    store = open_store(NodeConfig(store=StoreSection(url=f"sqlite:///{tmp_path / 'full.db'}")))
    try:
        _integrity(store)
    finally:
        store.dispose()


@pytest.mark.slow
def test_postgresql_stopped_mid_batch_then_started_loses_and_doubles_nothing(
    tmp_path: Path,
) -> None:
    """The database server goes down (an immediate stop: no checkpoint) while `hub ingest`
    is committing chunks: the command says so and exits 2, not a crash report; when the
    server is back the same input completes, and the store equals one that never saw the
    outage."""
    from tests.pgserver import private_postgresql

    gen = Generator(seed=33)
    records = gen.batch(40)
    gen.inject_defects(records, 0.05)
    batch = tmp_path / "batch.jsonl"
    write_batch(records, batch, "jsonl")
    ref_url = f"sqlite:///{tmp_path / 'ref.db'}"
    done = _hub(_config(tmp_path, "ref", ref_url), batch)
    done.communicate(timeout=300)
    assert done.returncode in (0, 1)
    ref = open_store(NodeConfig(store=StoreSection(url=ref_url)))
    want = _state(ref)
    ref.dispose()
    with private_postgresql() as pg:
        cfg = _config(tmp_path, "pg", pg.url)
        watcher = make_engine(pg.url)
        p = _hub(cfg, batch)
        _wait_for_progress(watcher, p, 0, 120)
        watcher.dispose()
        assert p.poll() is None, "the batch ended before the server could be stopped"
        pg.crash()
        _, err = p.communicate(timeout=120)
        assert p.returncode == 2, err.decode()
        assert b"database stopped answering" in err and b"unexpected failure" not in err
        pg.start()
        again = _hub(cfg, batch)
        out, err = again.communicate(timeout=300)
        assert again.returncode in (0, 1), err.decode()
        last = orjson.loads(out)
        assert last["records_in"] == len(records) == sum(last[k] for k in OUTCOMES)
        assert last["duplicate"] > 0  # what was committed before the outage
        store = open_store(NodeConfig(store=StoreSection(url=pg.url, data_dir=tmp_path / "pg")))
        try:
            got = _state(store)
            _integrity(store)
        finally:
            store.dispose()
    assert got == want
