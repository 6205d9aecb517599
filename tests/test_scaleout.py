"""Scale-out on PostgreSQL: three `hub worker` processes share one database's queue; the
leader is killed (SIGKILL) with a batch in hand.  Every batch is done, every record is
stored exactly once (as one process storing them in turn would), the dead worker's run is
interrupted, and the leadership moves to another worker with a higher epoch."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.config import IngestSection, NodeConfig, StoreSection
from hub.generate.batch import jsonl_bytes
from hub.generate.generator import Generator
from hub.ingest.pipeline import ingest_stream
from hub.store.engine import Store, open_store
from hub.store.models import CurrentRecord, RecordVersion, SyncRun, WorkItem, table
from hub.work import counts, enqueue, leader, queue
from hub.work.worker import LEADER
from tests.conftest import BACKENDS

CUR, VER, RUN, W = table(CurrentRecord), table(RecordVersion), table(SyncRun), table(WorkItem)
HUB = Path(sys.executable).with_name("hub")


def _state(store: Store) -> tuple[int, set[tuple[str, str, str]]]:
    with store.read() as conn:
        versions = int(conn.execute(select(func.count()).select_from(VER)).scalar_one())
        cur = {
            (r.dataset, r.business_key, r.content_hash)
            for r in conn.execute(select(CUR.c.dataset, CUR.c.business_key, CUR.c.content_hash))
        }
    return versions, cur


def _until(what: str, ok: Callable[[], bool], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not ok():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {seconds} s for {what}")
        time.sleep(0.02)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_workers_one_killed_mid_batch(tmp_path: Path, database_url: str) -> None:
    batches = [jsonl_bytes(Generator(seed=100 + i).batch(6)) for i in range(12)]
    # what one process storing the batches in turn ends with
    ref = open_store(NodeConfig(store=StoreSection(data_dir=tmp_path / "ref")))
    for i, b in enumerate(batches):
        ingest_stream(ref, io.BytesIO(b), "county-q", f"night-{i}.jsonl")
    expected = _state(ref)
    ref.dispose()

    toml = tmp_path / "node.toml"
    toml.write_text(
        f'[store]\nurl = "{database_url}"\ndata_dir = "{tmp_path / "data"}"\n'
        "[ingest]\nchunk_records = 50\nparallel_validation = false\n",
        "utf-8",
    )
    store = open_store(NodeConfig(store=StoreSection(url=database_url, data_dir=tmp_path / "data")))
    for i, b in enumerate(batches):
        enqueue(store, b, "county-q", f"night-{i}.jsonl")
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    workers = [
        subprocess.Popen(
            [str(HUB), "worker", "--config", str(toml), "--lease", "3"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(3)
    ]
    try:
        _until("a leader", lambda: leader.current(store, LEADER)[0] is not None)
        first, epoch, _ = leader.current(store, LEADER)
        assert first is not None
        pid = int(first.split(":")[1])

        def leader_in_hand() -> bool:
            """The leader holds a batch and has started its run (killed between its claim
            and its run's first row, it would leave no run to be interrupted)."""
            with store.read() as conn:
                return bool(
                    conn.execute(
                        select(func.count())
                        .select_from(W)
                        .join(RUN, RUN.c.raw_sha256 == W.c.raw_sha256)
                        .where(
                            W.c.status == "running",
                            W.c.claimed_by == first,
                            RUN.c.status == "running",
                        )
                    ).scalar()
                )

        _until("the leader holding a batch", leader_in_hand, 60)
        with store.read() as conn:
            (killed_item,) = conn.execute(
                select(W.c.id).where(W.c.status == "running", W.c.claimed_by == first)
            ).scalars()
        os.kill(pid, signal.SIGKILL)
        _until("every batch done", lambda: counts(store) == {"done": len(batches)})
        _until("a new leader", lambda: leader.current(store, LEADER)[0] not in (None, first))
        now, later, _ = leader.current(store, LEADER)
        assert later > epoch and now is not None and int(now.split(":")[1]) != pid
        assert _state(store) == expected  # each record stored once, as in one process
        with store.read() as conn:
            attempts = conn.execute(select(W.c.attempts).where(W.c.id == killed_item)).scalar()
            interrupted = conn.execute(
                select(func.count()).select_from(RUN).where(RUN.c.status == "interrupted")
            ).scalar()
        assert attempts == 2 and interrupted == 1
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
        for w in workers:
            w.wait(30)
        store.dispose()
    assert sorted(w.returncode for w in workers) == [-signal.SIGKILL, 0, 0]


@BACKENDS
def test_leader_lease_epochs_and_the_fence(store: Store) -> None:
    assert leader.acquire(store, "x", "a", 30) == 1
    assert leader.acquire(store, "x", "b", 30) is None  # a leads
    assert leader.acquire(store, "x", "a", 30) == 1  # a renews: same epoch
    with store.read() as conn:
        assert leader.still_leads(conn, "x", "a", 1)
    with store.write() as conn:  # a stalls past its lease (by the database's clock)
        conn.execute(leader.L.update().values(expires_at=datetime(2000, 1, 1, tzinfo=UTC)))
    assert leader.acquire(store, "x", "b", 30) == 2  # b takes over with a new epoch
    with store.read() as conn:
        assert not leader.still_leads(conn, "x", "a", 1)  # a's fence says stop
        assert leader.still_leads(conn, "x", "b", 2)
    leader.resign(store, "x", "b")
    assert leader.acquire(store, "x", "a", 30) == 3


@BACKENDS
def test_a_dead_workers_batch_is_taken_again_and_given_up_after_five(store: Store) -> None:
    n = enqueue(store, b'{"dataset": "PROJECT", "record": {}}\n', "county-q", "b.jsonl")
    lease = timedelta(seconds=30)
    first = queue.claim(store, "w1", lease)
    assert first is not None and (first.id, first.attempts) == (n, 1)
    assert queue.claim(store, "w2", lease) is None  # in w1's hands
    for attempt in range(2, 7):
        with store.write() as conn:  # w's claim ran out: it died
            conn.execute(W.update().values(claimed_until=datetime(2000, 1, 1, tzinfo=UTC)))
        again = queue.claim(store, f"w{attempt}", lease)
        if attempt <= queue.MAX_ATTEMPTS:
            assert again is not None and again.attempts == attempt
        else:
            assert again is None
    assert counts(store) == {"failed": 1}


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_writers_sharing_keys_do_not_race(tmp_path: Path, database_url: str) -> None:
    """Two sources send the same records at the same moment (a county and the city system
    that copies it), ingested by two writers at once: each key is read and written by one
    transaction at a time.  Before, both found no current record and the second insert
    failed on current_record's primary key."""
    night = jsonl_bytes(Generator(seed=17).batch(12))
    sources = ["county-a", "county-b"]
    ref = open_store(NodeConfig(store=StoreSection(data_dir=tmp_path / "ref")))
    for src in sources:
        ingest_stream(ref, io.BytesIO(night), src, "night.jsonl")
    expected = _state(ref)
    ref.dispose()
    store = open_store(NodeConfig(store=StoreSection(url=database_url, data_dir=tmp_path / "d")))
    small = IngestSection(chunk_records=40, parallel_validation=False)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def one(i: int) -> None:
        start.wait()
        try:
            ingest_stream(store, io.BytesIO(night), sources[i], "night.jsonl", settings=small)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    try:
        assert not errors, errors
        versions, current = _state(store)
        assert current == expected[1] and versions == expected[0]
    finally:
        store.dispose()
