"""What bench/kills.py's phases share: `hub` processes to start and kill, a node's SQLite
store read with the standard library (not through the hub it checks), node folders copied,
receipts checked against a store, and one phase's figures."""

from __future__ import annotations

import io
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from hub.demo.nodes import Node, free_port

Nodes = tuple[Node, Node, Node]  # the demo's province and two counties
HUB = str(Path(sys.executable).with_name("hub"))
ENV = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}


@dataclass
class Phase:
    name: str
    what: str
    kills: int = 0  # SIGKILLs sent
    landed: int = 0  # ... to a process that was still working
    records: int = 0  # record versions the reference holds
    lost: int = 0
    duplicated: int = 0
    acked_unstored: int = 0  # acknowledged (moved, receipt, delivered, done) but not stored
    sound: bool = False  # hub db check --deep on every store afterwards
    recovery_s: float = 0.0  # the clean run after the last kill, to the end
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.sound and not (self.lost or self.duplicated or self.acked_unstored)


def start(*args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    out = log.open("ab") if log else subprocess.DEVNULL
    return subprocess.Popen([HUB, *args], env=ENV, stdout=out, stderr=out)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HUB, *args], env=ENV, capture_output=True, text=True, check=False, timeout=900
    )


def kill_within(p: subprocess.Popen[bytes], rng: random.Random, window: float) -> bool:
    """SIGKILL ``p`` at a random moment of the next ``window`` seconds; True if it was still
    running then (the kill landed mid-work)."""
    time.sleep(rng.uniform(0.02, window))
    landed = p.poll() is None
    if landed:
        p.kill()
    p.wait()
    return landed


def rows(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=60)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def versions(db: Path) -> set[tuple[object, ...]]:
    return set(rows(db, "SELECT dataset, business_key, content_hash FROM record_version"))


def current(db: Path) -> set[tuple[object, ...]]:
    return set(rows(db, "SELECT dataset, business_key, content_hash, deleted FROM current_record"))


def compare(phase: Phase, ref: Path, got: Path, *, versions_too: bool = True) -> None:
    """Lost and duplicated against the reference store: its current records, and its
    versions (not for forwarding, which sends what is current, not every version)."""
    want, have = current(ref), current(got)
    phase.records = len(want)
    phase.lost, phase.duplicated = len(want - have), len(have - want)
    if versions_too:
        wv, hv = versions(ref), versions(got)
        phase.records = len(wv)
        phase.lost += len(wv - hv)
        phase.duplicated += len(hv - wv)


def sound(config: Path, phase: Phase) -> bool:
    r = run("db", "check", "--deep", "--format", "json", "--config", str(config))
    if r.returncode != 0:
        phase.notes.append(f"db check {config.parent.name}: {r.stdout[-600:]}{r.stderr[-600:]}")
        return False
    leftovers = json.loads(r.stdout)["checks"][-1]["detail"]
    phase.notes.append(f"{config.parent.name}: {leftovers}")
    return True


def wait_http(url: str, p: subprocess.Popen[bytes], seconds: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError(f"hub serve exited with {p.returncode} before answering")
        try:
            if httpx.get(f"{url}/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def db_of(folder: Path) -> Path:
    return folder / "hub-data" / "hub.db"


def safe_rows(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    try:
        return rows(db, sql, *params)
    except sqlite3.OperationalError:  # no store yet, or its schema not yet made
        return []


def unstored_in_receipts(db: Path, receipts: list[bytes]) -> int:
    """Records the receipts say were accepted that the store ``db`` does not hold."""
    held = set(safe_rows(db, "SELECT DISTINCT dataset, business_key FROM record_version"))
    missing = 0
    for receipt in receipts:
        with zipfile.ZipFile(io.BytesIO(receipt)) as zf:
            verdicts = json.loads(zf.read("receipt.json"))["records"]
        missing += sum(
            1
            for v in verdicts
            if v["outcome"] == "accepted" and (v["dataset"], v["key"]) not in held
        )
    return missing


def copy_node(src: Path, dst: Path, *, cut: str | None = None) -> Path:
    shutil.copytree(src, dst)
    cfg = dst / "node.toml"
    text = cfg.read_text("utf-8")
    if cut and cut in text:
        text = text[: text.index(cut)]
    cfg.write_text(re.sub(r"(?m)^port = \d+", f"port = {free_port()}", text), "utf-8")
    return cfg


def port_of(cfg: Path) -> int:
    m = re.search(r"(?m)^port = (\d+)", cfg.read_text("utf-8"))
    assert m
    return int(m.group(1))
