"""A target's runs looked at: a watermark moves up over them and their forward_run rows go,
so a node that runs for years does not keep one row per run per target; a run still
running, or one not looked at, holds the watermark below it."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from hub.config import NodeConfig, SigningSection, StoreSection
from hub.forward import forward, outbox
from hub.forward import target as target_state
from hub.generate.batch import jsonl_bytes
from hub.generate.generator import Generator
from hub.ingest.pipeline import ingest_stream
from hub.sections import ForwardSection
from hub.store.engine import Store, open_store
from hub.store.models import SyncRun, table
from tests.conftest import BACKENDS
from tests.packkit import RECEIVER, Pki, make_pki

RUN = table(SyncRun)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _city(tmp: Path, pki: Pki, url: str = "") -> NodeConfig:
    """A city forwarding to the province through a drop folder (no server needed)."""
    return NodeConfig(
        store=StoreSection(data_dir=tmp / "city", url=url),
        signing=SigningSection(key=pki.dir / "node.key", cert=pki.dir / "node.pem"),
        forward={
            "province": ForwardSection(
                receiver=RECEIVER, adapter="files", options={"outbox": str(tmp / "drop")}
            )
        },
    )


def _mark(store: Store) -> int:
    with store.read() as conn:
        t = target_state.T
        return int(
            conn.execute(select(t.c.runs_through).where(t.c.name == "province")).scalar_one()
        )


def _night(store: Store, seed: int) -> None:
    data = jsonl_bytes(Generator(seed=seed).batch(1))
    ingest_stream(store, io.BytesIO(data), "county-a", f"night-{seed}.jsonl")


def _age(store: Store, hours: float) -> None:
    """Every run so far started ``hours`` ago."""
    with store.write() as conn:
        conn.execute(update(RUN).values(started_at=datetime.now(UTC) - timedelta(hours=hours)))


def _rows(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(outbox.FRUN)).scalar() or 0)


def _pending(store: Store) -> list[int]:
    with store.read() as conn:
        return outbox.pending_runs(conn, "province")


@BACKENDS
def test_runs_looked_at_are_pruned_below_a_watermark(
    tmp_path: Path, pki: Pki, database_url: str
) -> None:
    cfg = _city(tmp_path, pki, database_url)
    store = open_store(cfg)
    try:
        for seed in (1, 2, 3):
            _night(store, seed)
        assert forward(cfg, store, "province").runs == 3
        assert _rows(store) == 3  # just started: not settled yet, nothing pruned
        _age(store, 2)
        with store.write() as conn:  # a run still in progress (its process is alive)
            one = conn.execute(select(RUN).limit(1)).one()._asdict()
            running = conn.execute(
                RUN.insert().returning(RUN.c.id),
                {k: v for k, v in one.items() if k not in ("id", "finished_at")}
                | {"status": "running"},
            ).scalar_one()
        _night(store, 4)  # a run that finishes after it
        _age(store, 2)
        assert forward(cfg, store, "province").runs == 1
        with store.write() as conn:  # the watermark stopped below the running run
            assert target_state.prune_runs(conn, "province", datetime.now(UTC)) == running - 1
            conn.execute(update(RUN).where(RUN.c.id == running).values(status="done"))
        assert _rows(store) == 1  # the run after it keeps its row
        assert _pending(store) == [running]  # finished now: it waits, the pruned ones do not
        _night(store, 5)
        _age(store, 2)
        p = forward(cfg, store, "province")
        assert p.runs == 2  # the run that was running and the new one
        assert _pending(store) == []
        assert _rows(store) == 0  # every row below the watermark is gone
        with store.read() as conn:
            last = conn.execute(select(func.max(RUN.c.id))).scalar_one()
        assert _mark(store) == last
        # a new run is forwarded as ever, and a reset makes every run pending again
        _night(store, 6)
        assert forward(cfg, store, "province").runs == 1
        done = target_state.forget(store, "province", "test")
        assert done["runs_forgotten"] == 7
        assert len(_pending(store)) == 7
    finally:
        store.dispose()


def test_a_run_not_settled_holds_the_watermark(tmp_path: Path, pki: Pki) -> None:
    """Runs started within the last hour are not passed over: another process may hold an
    id below theirs whose row it has not committed yet."""
    cfg = _city(tmp_path, pki)
    store = open_store(cfg)
    try:
        _night(store, 1)
        _night(store, 2)
        with store.read() as conn:
            ids = list(conn.execute(select(RUN.c.id).order_by(RUN.c.id)).scalars())
        with store.write() as conn:  # only the first run is old
            old = datetime.now(UTC) - timedelta(hours=2)
            conn.execute(update(RUN).where(RUN.c.id == ids[0]).values(started_at=old))
        forward(cfg, store, "province")
        assert _mark(store) == ids[0] and _rows(store) == 1 and _pending(store) == []
    finally:
        store.dispose()
