"""Outages during ingest: a full disk (a file-size limit) and the database server stopped
mid-batch.  Each is a clear error that says what to do, not a crash report; the store stays
sound, and the same input once things are back completes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from hub.config import NodeConfig, StoreSection
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.store.engine import make_engine, open_store
from tests.crashkit import OUTCOMES, config, hub, integrity, state, wait_for_progress


def test_a_full_disk_is_a_clear_error_and_the_same_input_again_completes(tmp_path: Path) -> None:
    """A file-size limit (what a full disk looks like to a process) stops `hub ingest`
    mid-batch with a message that says what happened and what to do, not a crash report;
    the store stays sound, and the same input once there is room completes it."""
    import resource

    gen = Generator(seed=32)
    records = gen.batch(20)
    batch = tmp_path / "batch.jsonl"
    write_batch(records, batch, "jsonl")
    cfg = config(tmp_path, "full", f"sqlite:///{tmp_path / 'full.db'}")
    limit = batch.stat().st_size + 600_000  # the raw copy fits; the database does not

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    argv = [sys.executable, "-m", "hub", "ingest", str(batch), "--source", "county-a",
            "--config", str(cfg), "--format", "json"]  # fmt: skip
    env = {**os.environ, "HUB_DATABASE_URL": "", "HUB_LOG_DIR": str(tmp_path / "logs")}

    def cli(args: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, env=env, capture_output=True, text=True, check=False, **kw)

    got = cli(argv, preexec_fn=small_disk)
    assert got.returncode == 2, got.stderr
    assert "could not be written" in got.stderr and "free space" in got.stderr, got.stderr
    assert "unexpected failure" not in got.stderr and not (tmp_path / "logs").exists()
    check = cli([sys.executable, "-m", "hub", "db", "check", "--deep", "--config", str(cfg)])
    assert check.returncode == 0, check.stdout + check.stderr
    again = cli(argv)
    assert again.returncode in (0, 1), again.stderr
    out = orjson.loads(again.stdout)
    assert out["records_in"] == len(records) == sum(out[k] for k in OUTCOMES)
    store = open_store(NodeConfig(store=StoreSection(url=f"sqlite:///{tmp_path / 'full.db'}")))
    try:
        integrity(store)
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
    done = hub(config(tmp_path, "ref", ref_url), batch)
    done.communicate(timeout=300)
    assert done.returncode in (0, 1)
    ref = open_store(NodeConfig(store=StoreSection(url=ref_url)))
    want = state(ref)
    ref.dispose()
    with private_postgresql() as pg:
        cfg = config(tmp_path, "pg", pg.url)
        watcher = make_engine(pg.url)
        p = hub(cfg, batch)
        wait_for_progress(watcher, p, 0, 120)
        watcher.dispose()
        assert p.poll() is None, "the batch ended before the server could be stopped"
        pg.crash()
        _, err = p.communicate(timeout=120)
        assert p.returncode == 2, err.decode()
        assert b"database stopped answering" in err and b"unexpected failure" not in err
        pg.start()
        again = hub(cfg, batch)
        out, err = again.communicate(timeout=300)
        assert again.returncode in (0, 1), err.decode()
        last = orjson.loads(out)
        assert last["records_in"] == len(records) == sum(last[k] for k in OUTCOMES)
        assert last["duplicate"] > 0  # what was committed before the outage
        store = open_store(NodeConfig(store=StoreSection(url=pg.url, data_dir=tmp_path / "pg")))
        try:
            got = state(store)
            integrity(store)
        finally:
            store.dispose()
    assert got == want
