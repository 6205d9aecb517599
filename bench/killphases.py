"""The phases bench/kills.py kills: each takes the demo's nodes, a work folder, its random
source and its number of kills, and returns its figures (bench/killkit.Phase)."""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import shutil
import sqlite3
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.killkit import Phase, compare, kill_within, rows, run, sound, start, wait_http
from hub.demo.nodes import LIANJIANG, Node, free_port
from hub.generate.batch import jsonl_bytes, write_batch
from hub.generate.generator import Generator

Nodes = tuple[Node, Node, Node]


def _db(folder: Path) -> Path:
    return folder / "hub-data" / "hub.db"


def _safe_rows(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    try:
        return rows(db, sql, *params)
    except sqlite3.OperationalError:  # no store yet, or its schema not yet made
        return []


def _unstored_in_receipts(db: Path, receipts: list[bytes]) -> int:
    """Records the receipts say were accepted that the store ``db`` does not hold."""
    held = set(_safe_rows(db, "SELECT DISTINCT dataset, business_key FROM record_version"))
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


def _copy_node(src: Path, dst: Path, *, cut: str | None = None) -> Path:
    shutil.copytree(src, dst)
    cfg = dst / "node.toml"
    text = cfg.read_text("utf-8")
    if cut and cut in text:
        text = text[: text.index(cut)]
    cfg.write_text(re.sub(r"(?m)^port = \d+", f"port = {free_port()}", text), "utf-8")
    return cfg


def _port(cfg: Path) -> int:
    m = re.search(r"(?m)^port = (\d+)", cfg.read_text("utf-8"))
    assert m
    return int(m.group(1))


# -- sync ---------------------------------------------------------------------------------


def sync(nodes: Nodes, work: Path, rng: random.Random, k: int, say: Any) -> Phase:
    ph = Phase("sync", "hub sync of a county's inbox, acknowledging each file after its commit")
    _, minhou, _ = nodes
    work.mkdir(parents=True)
    node, ref = work / "minhou", work / "ref"
    cfg, ref_cfg = _copy_node(minhou.folder, node), _copy_node(minhou.folder, ref)
    inbox, ref_inbox = node / "inbox" / "minhou-night", ref / "inbox" / "minhou-night"
    inbox.mkdir(parents=True, exist_ok=True)
    ref_inbox.mkdir(parents=True, exist_ok=True)
    g, sets = Generator(seed=rng.randrange(1 << 30)), 0

    def add_set() -> None:
        nonlocal sets
        for j in range(3):
            recs = g.batch(6)
            g.inject_defects(recs, 0.05)
            name = f"s{sets:03d}-f{j}.jsonl"
            write_batch(recs, inbox / name, "jsonl")
            shutil.copy2(inbox / name, ref_inbox / name)
        sets += 1

    add_set()
    t0 = time.monotonic()
    assert run("sync", "minhou-night", "--config", str(ref_cfg)).returncode in (0, 1)
    window = (time.monotonic() - t0) * 1.2

    def acked_unstored() -> int:
        bad = 0
        for f in (inbox / "processed").glob("*.jsonl"):
            sha = hashlib.sha256(f.read_bytes()).hexdigest()
            done = _safe_rows(
                _db(node),
                "SELECT 1 FROM sync_run WHERE raw_sha256 = ? AND status = 'done'",
                sha,
            )
            bad += not done
        return bad

    for _ in range(k):
        if not list(inbox.glob("*.jsonl")):
            add_set()
        p = start("sync", "minhou-night", "--config", str(cfg))
        ph.kills += 1
        ph.landed += kill_within(p, rng, window)
        ph.acked_unstored = max(ph.acked_unstored, acked_unstored())
    t0 = time.monotonic()
    for _ in range(5):
        run("sync", "minhou-night", "--config", str(cfg))
        if not list(inbox.glob("*.jsonl")):
            break
    ph.recovery_s = time.monotonic() - t0
    ph.acked_unstored = max(ph.acked_unstored, acked_unstored())
    run("sync", "minhou-night", "--config", str(ref_cfg))
    compare(ph, _db(ref), _db(node))
    left = len(list(inbox.glob("*.jsonl")))
    if left:
        ph.notes.append(f"{left} file(s) still in the inbox after the clean runs")
        ph.lost += left
    ph.notes.append(f"{sets} sets of 3 files")
    ph.sound = sound(cfg, ph) & sound(ref_cfg, ph)
    return ph


# -- receive ------------------------------------------------------------------------------


def _system(nodes: Nodes) -> Any:
    from hub.package import crypto
    from hub.package.build import SigningIdentity
    from hub.package.pki import load_certs

    keys = nodes[2].folder.parent / "lianjiang-system" / "keys"
    return SigningIdentity(
        crypto.load_private_key((keys / "node-ecdsa.TEST-ONLY.key").read_bytes()),
        load_certs((keys / "node-ecdsa.pem").read_bytes())[0],
        [],
    )


class _Pusher(threading.Thread):
    """A county system: pushes each package not yet answered, in order, until the hub stops
    answering; keeps every receipt it got."""

    def __init__(self, url: str, packages: list[tuple[str, bytes]], got: dict[str, bytes]):
        super().__init__(daemon=True)
        self.url, self.packages, self.got = url, packages, got
        self.skip: set[str] = set()  # interrupted ones: their lease must run out first
        self.cut = False  # a request was in flight when the hub died

    def run(self) -> None:
        with httpx.Client(timeout=300) as http:
            for pid, data in self.packages:
                if pid in self.got or pid in self.skip:
                    continue
                try:
                    r = http.post(f"{self.url}/v1/packages", content=data)
                except httpx.HTTPError:
                    self.skip.add(pid)
                    self.cut = True
                    return
                if r.status_code == 200:
                    self.got[pid] = r.content


def receive(nodes: Nodes, work: Path, rng: random.Random, k: int, say: Any) -> Phase:
    from hub.package.build import build, data_lines

    ph = Phase("receive", "hub serve receiving pushed packages and answering with receipts")
    work.mkdir(parents=True)
    node, ref = work / "lianjiang", work / "ref"
    cut = "\n[forward.province]"  # no forwarding here: that is the next phase
    cfg, ref_cfg = (
        _copy_node(nodes[2].folder, node, cut=cut),
        _copy_node(nodes[2].folder, ref, cut=cut),
    )
    system, g = _system(nodes), Generator(seed=rng.randrange(1 << 30))
    packages: list[tuple[str, bytes]] = []

    def more(n: int) -> None:
        for _ in range(n):
            recs = g.batch(3)
            g.inject_defects(recs, 0.05)
            pid = f"PKG-KILL-{len(packages) + 1:05d}"
            lines = data_lines(io.BytesIO(jsonl_bytes(recs)), pid)
            packages.append((pid, build(lines, system, LIANJIANG, package_id=pid)[1]))

    more(6)
    ref_srv = start("serve", "--config", str(ref_cfg), log=work / "ref-serve.log")
    ref_url = f"http://127.0.0.1:{_port(ref_cfg)}"
    wait_http(ref_url, ref_srv)
    t0 = time.monotonic()
    assert httpx.post(f"{ref_url}/v1/packages", content=packages[0][1], timeout=300).is_success
    window = (time.monotonic() - t0) * 2  # the pusher always has more than that to send
    got: dict[str, bytes] = {}
    url = f"http://127.0.0.1:{_port(cfg)}"
    skip: set[str] = set()
    for _ in range(k):
        if len(packages) - len(got) - len(skip) < 8:
            more(8)
        srv = start("serve", "--config", str(cfg), log=work / "serve.log")
        wait_http(url, srv)
        pusher = _Pusher(url, packages, got)
        pusher.skip = skip
        pusher.start()
        ph.kills += 1
        kill_within(srv, rng, window)
        pusher.join(60)
        ph.landed += pusher.cut
    ph.acked_unstored = _unstored_in_receipts(_db(node), list(got.values()))
    # the clean end: the hub up again, every package not answered sent again (an interrupted
    # one waits for the dead receiver's lease, hub.package.claim.LEASE, to run out)
    t0 = time.monotonic()
    srv = start("serve", "--config", str(cfg), log=work / "serve.log")
    wait_http(url, srv)
    last = _Pusher(url, packages, got)
    last.run()
    ph.recovery_s = time.monotonic() - t0
    srv.terminate()
    srv.wait(30)
    ph.acked_unstored = _unstored_in_receipts(_db(node), list(got.values()))
    with httpx.Client(timeout=300) as http:
        for _, data in packages[1:]:
            assert http.post(f"{ref_url}/v1/packages", content=data).status_code == 200
    ref_srv.terminate()
    ref_srv.wait(30)
    compare(ph, _db(ref), _db(node))
    unanswered = [p for p, _ in packages if p not in got]
    ph.lost += len(unanswered)
    ph.notes.append(f"{len(packages)} packages; {len(skip)} interrupted and sent again at the end")
    ph.sound = sound(cfg, ph) & sound(ref_cfg, ph)
    return ph


# -- forward ------------------------------------------------------------------------------


def _delivered_unstored(sender: Path, receiver: Path) -> int:
    """Records the receiver's receipts (kept by the sender with its delivered packages) say
    were accepted that the receiver does not hold."""
    kept = _safe_rows(
        _db(sender),
        "SELECT receipt FROM delivery WHERE status = 'delivered' AND receipt IS NOT NULL",
    )
    return _unstored_in_receipts(_db(receiver), [r for (r,) in kept if isinstance(r, bytes)])


def forward(nodes: Nodes, work: Path, rng: random.Random, k: int, say: Any) -> Phase:
    ph = Phase("forward", "hub forward run: build, sign, seal, push, keep the receipt")
    prov, minhou, _ = nodes
    work.mkdir(parents=True)
    pcfg = _copy_node(prov.folder, work / "province")
    purl = f"http://127.0.0.1:{_port(pcfg)}"
    cfg = _copy_node(minhou.folder, work / "minhou")
    text = re.sub(r'url = "http://127\.0\.0\.1:\d+"', f'url = "{purl}"', cfg.read_text("utf-8"))
    cfg.write_text(text.replace('every = "10s"', 'every = "10s"\nmax_records = 200'), "utf-8")
    node, g = work / "minhou", Generator(seed=rng.randrange(1 << 30))
    batches = 0

    def more() -> None:
        nonlocal batches
        recs = g.batch(12)
        g.inject_defects(recs, 0.05)
        f = work / f"night-{batches:03d}.jsonl"
        write_batch(recs, f, "jsonl")
        assert run(
            "ingest", str(f), "--source", "minhou-night", "--config", str(cfg)
        ).returncode in (0, 1)
        batches += 1

    srv = start("serve", "--config", str(pcfg), log=work / "province-serve.log")
    wait_http(purl, srv)
    more()
    t0 = time.monotonic()
    run("forward", "run", "province", "--config", str(cfg))
    window = max(1.0, time.monotonic() - t0)
    for _ in range(k):
        more()
        p = start("forward", "run", "province", "--config", str(cfg))
        ph.kills += 1
        ph.landed += kill_within(p, rng, window)
    ph.acked_unstored = _delivered_unstored(node, work / "province")
    t0 = time.monotonic()
    for _ in range(5):
        if run("forward", "run", "province", "--config", str(cfg)).returncode == 0:
            break
    ph.recovery_s = time.monotonic() - t0
    srv.terminate()
    srv.wait(30)
    ph.acked_unstored = max(ph.acked_unstored, _delivered_unstored(node, work / "province"))
    # what the county holds, the province must hold: the county's store is the reference
    compare(ph, _db(node), _db(work / "province"), versions_too=False)
    n = len(_safe_rows(_db(node), "SELECT 1 FROM delivery WHERE status = 'delivered'"))
    ph.notes.append(f"{batches} batches of 12 transactions; {n} packages delivered")
    ph.sound = sound(cfg, ph) & sound(pcfg, ph)
    return ph


# -- worker -------------------------------------------------------------------------------


def worker(nodes: Nodes, work: Path, rng: random.Random, k: int, say: Any) -> Phase:
    ph = Phase("worker", "hub worker processes sharing one queue: claim, ingest, finish")
    work.mkdir(parents=True)
    cut = "\n[forward.province]"
    cfg = _copy_node(nodes[2].folder, work / "node", cut=cut)
    ref_cfg = _copy_node(nodes[2].folder, work / "ref", cut=cut)
    node, ref = work / "node", work / "ref"
    g, queued = Generator(seed=rng.randrange(1 << 30)), 0

    def more(n: int) -> None:
        nonlocal queued
        files = []
        for _ in range(n):
            recs = g.batch(4)
            g.inject_defects(recs, 0.05)
            f = work / f"batch-{queued:04d}.jsonl"
            write_batch(recs, f, "jsonl")
            files.append(str(f))
            queued += 1
        for c in (cfg, ref_cfg):
            got = run("queue", "add", *files, "--source", "county-q", "--config", str(c))
            assert got.returncode == 0, got.stderr

    def waiting() -> int:
        return len(_safe_rows(_db(node), "SELECT 1 FROM work_item WHERE status != 'done'"))

    more(6)
    t0 = time.monotonic()
    assert run("worker", "--once", "--no-lead", "--config", str(ref_cfg)).returncode == 0
    per_batch = (time.monotonic() - t0) / 6
    argv = ("worker", "--once", "--no-lead", "--lease", "5", "--config", str(cfg))
    live = [start(*argv, log=work / "workers.log") for _ in range(3)]
    for _ in range(k):
        if waiting() < 6:
            more(6)
        time.sleep(rng.uniform(0.05, per_batch * 2))
        victim = live.pop(rng.randrange(len(live)))
        ph.kills += 1
        if victim.poll() is None:
            victim.kill()
            ph.landed += 1
        victim.wait()
        live.append(start(*argv, log=work / "workers.log"))
        live = [p for p in live if p.poll() is None] or [start(*argv, log=work / "workers.log")]
        while len(live) < 3:
            live.append(start(*argv, log=work / "workers.log"))
    t0 = time.monotonic()
    for p in live:
        p.wait(600)
    for _ in range(5):  # an item whose worker died is taken over by the next one
        if not waiting():
            break
        run(*argv)
    ph.recovery_s = time.monotonic() - t0
    ph.acked_unstored = len(
        _safe_rows(
            _db(node),
            "SELECT 1 FROM work_item w LEFT JOIN sync_run r ON r.id = w.run_id "
            "WHERE w.status = 'done' AND (r.id IS NULL OR r.status != 'done')",
        )
    )
    run("worker", "--once", "--no-lead", "--config", str(ref_cfg))
    compare(ph, _db(ref), _db(node))
    failed = _safe_rows(_db(node), "SELECT id, error FROM work_item WHERE status != 'done'")
    ph.lost += len(failed)
    ph.notes.append(f"{queued} batches queued; not done: {failed}")
    ph.sound = sound(cfg, ph) & sound(ref_cfg, ph)
    return ph


PHASES: dict[str, Callable[[Nodes, Path, random.Random, int, Any], Phase]] = {
    "sync": sync,
    "receive": receive,
    "forward": forward,
    "worker": worker,
}
