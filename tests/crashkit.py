"""What the crash and outage tests share: a node's configuration with small chunks, `hub
ingest` as a real process, a store's state to compare, and its integrity checks."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

from hub.store import audit
from hub.store.engine import Store
from hub.store.models import CurrentRecord, Hold, RecordVersion

OUTCOMES = ("accepted", "rejected", "quarantined", "held", "duplicate")
CHUNK = 40  # records per commit: many commit points to land between


def config(tmp_path: Path, name: str, url: str) -> Path:
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(
        f'[store]\nurl = "{url}"\ndata_dir = "{tmp_path / name}"\n\n'
        # validation in a second process even for this small batch: the path large
        # inputs take, and the one with more to go wrong under SIGKILL
        f"[ingest]\nchunk_records = {CHUNK}\nparallel_from_mb = 0\n",
        "utf-8",
    )
    return cfg


def hub(cfg: Path, batch: Path) -> subprocess.Popen[bytes]:
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


def no_orphans(batch: Path) -> None:
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


def state(store: Store) -> dict[str, Any]:
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


def integrity(store: Store) -> None:
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


def last_run(engine: Any) -> tuple[int, int]:
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT id, records_in FROM sync_run ORDER BY id DESC LIMIT 1")
            ).first()
    except Exception:  # the schema does not exist before the first run creates it
        return 0, 0
    return (int(row[0]), int(row[1])) if row else (0, 0)


def wait_for_progress(engine: Any, p: subprocess.Popen[bytes], after: int, limit: float) -> None:
    """Until the process's own run has committed at least one chunk (or it ended)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and p.poll() is None:
        run_id, records_in = last_run(engine)
        if run_id > after and records_in:
            return
        time.sleep(0.02)
