"""`hub serve` stands for the leader of the processes on its store: two of them on one
database run the schedules once, in the one that leads; killed, it is replaced at once by
the other (a dead process of this machine need not wait for its lease to run out); one that
stops gives the lease back; `--no-schedules` does not stand."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from hub.config import load_config
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.store.engine import Store, open_store
from hub.store.models import SyncRun
from hub.work import leader
from hub.work.worker import LEADER
from tests.packkit import make_pki
from tests.webkit import free_port

HUB = Path(sys.executable).with_name("hub")


def _until(what: str, pred: Callable[[], object], seconds: float = 20) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[Path, Store]]:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (tmp_path / "pki").mkdir()
    pki = make_pki(tmp_path / "pki")
    cfg = tmp_path / "node.toml"
    cfg.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path / "hub.db"}"\ndata_dir = "{tmp_path / "data"}"\n'
        f'[signing]\nkey = "{pki.dir / "node.key"}"\ncert = "{pki.dir / "node.pem"}"\n'
        f'[sources.county-a]\nadapter = "files"\n[sources.county-a.options]\n'
        f'inbox = "{inbox}"\nmin_age_seconds = 0\n'
        '[schedules.a-often]\nsource = "county-a"\nevery = "1s"\n'
    )
    store = open_store(load_config(cfg))
    try:
        yield cfg, store
    finally:
        store.dispose()


def _serve(cfg: Path, *extra: str) -> subprocess.Popen[bytes]:
    port = free_port()
    p = subprocess.Popen(
        [str(HUB), "serve", "--config", str(cfg), "--port", str(port), "--lease", "3", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    _until("hub serve to answer", up, 60)
    return p


def _holder(store: Store) -> tuple[str, int]:
    who, epoch, _ = leader.current(store, LEADER)
    return who or "", epoch


def _pid(who: str) -> int:
    return int(who.rpartition("@")[0].split(":")[-2]) if who else 0


def _runs(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(SyncRun)).scalar_one())


def _drop(cfg: Path, name: str, seed: int) -> None:
    write_batch(Generator(seed=seed).batch(1), cfg.parent / "inbox" / name, "jsonl")


def test_one_serve_leads_and_another_takes_over_when_it_dies(node: tuple[Path, Store]) -> None:
    cfg, store = node
    a = _serve(cfg)
    b: subprocess.Popen[bytes] | None = None
    try:
        _until("a leader", lambda: _pid(_holder(store)[0]) == a.pid)
        _drop(cfg, "night-1.jsonl", 1)
        _until("the leader's schedule to take the drop", lambda: _runs(store) >= 1)
        first = _holder(store)
        b = _serve(cfg)
        time.sleep(2.5)  # more than a renewal (a third of the lease)
        assert _holder(store) == first  # b waits: a still leads, same epoch
        a.send_signal(signal.SIGKILL)
        a.wait(10)
        _until("b to lead", lambda: _pid(_holder(store)[0]) == b.pid, 10)
        assert _holder(store)[1] == first[1] + 1  # a new epoch: the fencing token moved on
        runs = _runs(store)
        _drop(cfg, "night-2.jsonl", 2)
        _until("the new leader's schedule to take the drop", lambda: _runs(store) > runs)
        b.send_signal(signal.SIGTERM)
        assert b.wait(30) == 0
        _, _, expires = leader.current(store, LEADER)
        assert expires is None  # given back on the way out: the next one need not wait
    finally:
        for p in (a, b):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(10)


def test_no_schedules_does_not_stand(node: tuple[Path, Store]) -> None:
    cfg, store = node
    c = _serve(cfg, "--no-schedules")
    try:
        time.sleep(2)
        assert _holder(store) == ("", 0)
        _drop(cfg, "night-1.jsonl", 1)
        time.sleep(2)
        assert _runs(store) == 0  # nobody runs the schedules
        assert os.path.exists(cfg.parent / "inbox" / "night-1.jsonl")
    finally:
        c.send_signal(signal.SIGTERM)
        c.wait(30)
