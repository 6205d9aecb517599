"""Kill ingest with SIGKILL at random points, re-run, and check nothing was lost or doubled.

For each backend: a reference store ingests the batch once, cleanly.  A second store sees
the same batch ingested by a real ``hub ingest`` process that is killed with SIGKILL at a
random moment, KILLS times over, then run to completion.  Afterwards the two stores must hold
the same current state and the same versions, no content twice, and the store must pass
its integrity checks (SQLite integrity_check, foreign keys, the audit chain, raw objects).
"""

from __future__ import annotations

import random
import signal
import time
from pathlib import Path

import orjson
import pytest
from sqlalchemy import func, select

from hub.config import NodeConfig, StoreSection
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.store.engine import make_engine, open_store
from hub.store.models import SyncRun
from tests.conftest import BACKENDS
from tests.crashkit import (
    OUTCOMES,
    config,
    hub,
    integrity,
    last_run,
    no_orphans,
    state,
    wait_for_progress,
)

KILLS = 20


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
    ref_cfg = config(tmp_path, "ref", f"sqlite:///{tmp_path / 'ref.db'}")
    t0 = time.monotonic()
    done = hub(ref_cfg, batch)
    _, err = done.communicate(timeout=300)
    clean_seconds = time.monotonic() - t0
    assert done.returncode in (0, 1), err.decode()
    ref = open_store(NodeConfig(store=StoreSection(url=f"sqlite:///{tmp_path / 'ref.db'}")))
    want = state(ref)
    ref.dispose()
    assert want["versions"] and not want["doubled"]

    cfg = config(tmp_path, "crash", database_url)
    rng = random.Random(31)
    landed = 0
    watcher = make_engine(database_url)
    for i in range(KILLS):
        before, _ = last_run(watcher)
        p = hub(cfg, batch)
        if i % 2 == 0:  # anywhere: start-up, raw store, between or inside commits
            time.sleep(rng.uniform(0.05, clean_seconds))
        else:  # once the run has committed a chunk, so some kills land between commits
            wait_for_progress(watcher, p, before, clean_seconds * 3)
            time.sleep(rng.uniform(0.0, 0.2))
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            landed += 1
        p.communicate(timeout=300)
    watcher.dispose()
    assert landed >= KILLS // 2, f"only {landed} of {KILLS} kills landed mid-run"
    no_orphans(batch)
    final = hub(cfg, batch)
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
    got = state(store)
    integrity(store)
    store.dispose()
    assert got["doubled"] == []
    assert len(got["versions"]) == len(want["versions"])  # 0 lost, 0 duplicated
    assert got == want
