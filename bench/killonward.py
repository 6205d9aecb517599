"""The phases bench/kills.py kills that pass work on: forwarding to the province, and
workers sharing a queue (bench/killphases.py has the registry of all phases)."""

from __future__ import annotations

import random
import re
import time
from pathlib import Path
from typing import Any

from bench.killkit import (
    Nodes,
    Phase,
    compare,
    copy_node,
    db_of,
    kill_within,
    port_of,
    run,
    safe_rows,
    sound,
    start,
    unstored_in_receipts,
    wait_http,
)
from hub.generate.batch import write_batch
from hub.generate.generator import Generator

# -- forward ------------------------------------------------------------------------------


def _delivered_unstored(sender: Path, receiver: Path) -> int:
    """Records the receiver's receipts (kept by the sender with its delivered packages) say
    were accepted that the receiver does not hold."""
    kept = safe_rows(
        db_of(sender),
        "SELECT receipt FROM delivery WHERE status = 'delivered' AND receipt IS NOT NULL",
    )
    return unstored_in_receipts(db_of(receiver), [r for (r,) in kept if isinstance(r, bytes)])


def forward(nodes: Nodes, work: Path, rng: random.Random, k: int, say: Any) -> Phase:
    ph = Phase("forward", "hub forward run: build, sign, seal, push, keep the receipt")
    prov, minhou, _ = nodes
    work.mkdir(parents=True)
    pcfg = copy_node(prov.folder, work / "province")
    purl = f"http://127.0.0.1:{port_of(pcfg)}"
    cfg = copy_node(minhou.folder, work / "minhou")
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
    compare(ph, db_of(node), db_of(work / "province"), versions_too=False)
    n = len(safe_rows(db_of(node), "SELECT 1 FROM delivery WHERE status = 'delivered'"))
    ph.notes.append(f"{batches} batches of 12 transactions; {n} packages delivered")
    ph.sound = sound(cfg, ph) & sound(pcfg, ph)
    return ph


# -- worker -------------------------------------------------------------------------------


def worker(nodes: Nodes, work: Path, rng: random.Random, k: int, say: Any) -> Phase:
    ph = Phase("worker", "hub worker processes sharing one queue: claim, ingest, finish")
    work.mkdir(parents=True)
    cut = "\n[forward.province]"
    cfg = copy_node(nodes[2].folder, work / "node", cut=cut)
    ref_cfg = copy_node(nodes[2].folder, work / "ref", cut=cut)
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
        return len(safe_rows(db_of(node), "SELECT 1 FROM work_item WHERE status != 'done'"))

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
        safe_rows(
            db_of(node),
            "SELECT 1 FROM work_item w LEFT JOIN sync_run r ON r.id = w.run_id "
            "WHERE w.status = 'done' AND (r.id IS NULL OR r.status != 'done')",
        )
    )
    run("worker", "--once", "--no-lead", "--config", str(ref_cfg))
    compare(ph, db_of(ref), db_of(node))
    failed = safe_rows(db_of(node), "SELECT id, error FROM work_item WHERE status != 'done'")
    ph.lost += len(failed)
    ph.notes.append(f"{queued} batches queued; not done: {failed}")
    ph.sound = sound(cfg, ph) & sound(ref_cfg, ph)
    return ph
