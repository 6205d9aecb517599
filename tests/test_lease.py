"""Leases (hub.store.lease): a holder that was SIGKILLed on this machine gives its lease up at
once; a live holder, or one of another machine, keeps it until it runs out."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from hub.config import NodeConfig, StoreSection
from hub.errors import RetryableError
from hub.forward import target
from hub.store.engine import Store, open_store
from hub.store.forward_models import ForwardTarget
from hub.store.lease import holder_id
from hub.store.models import RawBatch, table
from tests.conftest import BACKENDS

HOLD = """
import sys, time
from datetime import UTC, datetime, timedelta
from hub.config import NodeConfig, StoreSection
from hub.errors import RetryableError
from hub.forward import target
from hub.store.engine import open_store
from hub.store.lease import holder_id
store = open_store(NodeConfig(store=StoreSection(url=sys.argv[1], data_dir=sys.argv[2])))
who = holder_id()
assert target.claim(store, "province", who, datetime.now(UTC))
print(who, flush=True)
time.sleep(600)
"""


def _holder(store: Store) -> str | None:
    t = table(ForwardTarget)
    with store.read() as conn:
        return conn.execute(select(t.c.claimed_by).where(t.c.name == "province")).scalar()


@BACKENDS
def test_a_killed_holder_gives_its_lease_up_at_once(database_url: str, tmp_path: Path) -> None:
    store = open_store(NodeConfig(store=StoreSection(url=database_url, data_dir=tmp_path)))
    other = subprocess.Popen(
        [sys.executable, "-c", HOLD, database_url, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert other.stdout is not None
    theirs = other.stdout.readline().strip()
    me = holder_id()
    try:
        # alive: its 10-minute lease holds
        assert not target.claim(store, "province", me, datetime.now(UTC))
        assert _holder(store) == theirs
        # the same dead process seen from another machine (or an older hub's holder format)
        # keeps the lease: its number means nothing here
        other.send_signal(signal.SIGKILL)
        other.wait()
        t = table(ForwardTarget)
        for foreign in (theirs.rpartition("@")[0] + "@0123456789ab", theirs.rpartition("@")[0]):
            with store.write() as conn:
                conn.execute(update(t).where(t.c.name == "province").values(claimed_by=foreign))
            assert not target.claim(store, "province", me, datetime.now(UTC)), foreign
        with store.write() as conn:
            conn.execute(update(t).where(t.c.name == "province").values(claimed_by=theirs))
        # killed on this machine: taken over now, not in ten minutes
        t0 = time.monotonic()
        assert target.claim(store, "province", me, datetime.now(UTC))
        assert _holder(store) == me and time.monotonic() - t0 < 60
    finally:
        if other.poll() is None:
            other.kill()
        other.wait()
        other.stdout.close()
        store.dispose()


CLAIM = """
import sys, time
from datetime import timedelta
from hub.config import NodeConfig, StoreSection
from hub.errors import RetryableError
from hub.store.engine import open_store
from hub.store.lease import holder_id
from hub.work import queue
store = open_store(NodeConfig(store=StoreSection(url=sys.argv[1], data_dir=sys.argv[2])))
item = queue.claim(store, holder_id(), timedelta(hours=1))
print(item.id, flush=True)
time.sleep(600)
"""


@BACKENDS
def test_a_queued_batch_whose_worker_was_killed_is_taken_over_at_once(
    database_url: str, tmp_path: Path
) -> None:
    from hub.work import queue

    store = open_store(NodeConfig(store=StoreSection(url=database_url, data_dir=tmp_path)))
    first = queue.enqueue(store, b'{"dataset": "PROJECT", "record": {}}\n', "county-q", "a.jsonl")
    worker = subprocess.Popen(
        [sys.executable, "-c", CLAIM, database_url, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    try:
        assert int(worker.stdout.readline()) == first  # in hand, for an hour
        assert queue.claim(store, holder_id(), timedelta(minutes=1)) is None  # it is alive
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        took = queue.claim(store, holder_id(), timedelta(minutes=1))
        assert took is not None and took.id == first and took.attempts == 2
    finally:
        if worker.poll() is None:
            worker.kill()
        worker.wait()
        worker.stdout.close()
        store.dispose()


@BACKENDS
def test_a_package_whose_receiver_was_killed_is_resumed_at_once(
    database_url: str, tmp_path: Path
) -> None:
    """A copy of a package whose receiver died mid-way (row ``receiving``, its lease two
    minutes from over) resumes it now when the receiver was a process of this machine."""
    from hub.package import claim
    from hub.store.models import Package

    store = open_store(NodeConfig(store=StoreSection(url=database_url, data_dir=tmp_path)))
    dead = subprocess.run(
        [sys.executable, "-c", "from hub.store.lease import holder_id; print(holder_id())"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    pkg, now = table(Package), datetime.now(UTC)
    sha = "0" * 64
    with store.write() as conn:
        conn.execute(table(RawBatch).insert(), {"sha256": sha, "size": 1, "media_type": "package",
                                                "origin": "t", "first_seen": now})  # fmt: skip
        for pid, holder in (("PKG-DEAD-0001", dead), ("PKG-LIVE-0001", holder_id())):
            conn.execute(pkg.insert(), {
                "package_id": pid, "sender": "S", "receiver": "R", "raw_sha256": sha,
                "manifest_sha256": sha, "status": "receiving", "received_at": now,
                "claimed_until": now + claim.LEASE, "claimed_by": holder,
            })  # fmt: skip
    try:
        t0 = time.monotonic()
        got = claim.claim(store, "PKG-DEAD-0001", wait=5)
        assert got.row_id is not None and got.receipt is None and time.monotonic() - t0 < 5
        with pytest.raises(RetryableError):  # a live receiver (this process) is waited for
            claim.claim(store, "PKG-LIVE-0001", wait=0.5)
    finally:
        store.dispose()
