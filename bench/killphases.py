"""The phases bench/kills.py kills that take files and packages in: each takes the demo's
nodes, a work folder, its random source and its number of kills, and returns its figures
(bench/killkit.Phase).  The phases that pass work on are in bench/killonward.py."""

from __future__ import annotations

import hashlib
import io
import random
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

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
from bench.killonward import forward, worker
from hub.demo.nodes import LIANJIANG
from hub.generate.batch import jsonl_bytes, write_batch
from hub.generate.generator import Generator

# -- sync ---------------------------------------------------------------------------------


def sync(nodes: Nodes, work: Path, rng: random.Random, k: int, say: Any) -> Phase:
    ph = Phase("sync", "hub sync of a county's inbox, acknowledging each file after its commit")
    _, minhou, _ = nodes
    work.mkdir(parents=True)
    node, ref = work / "minhou", work / "ref"
    cfg, ref_cfg = copy_node(minhou.folder, node), copy_node(minhou.folder, ref)
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
            done = safe_rows(
                db_of(node),
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
    compare(ph, db_of(ref), db_of(node))
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
        copy_node(nodes[2].folder, node, cut=cut),
        copy_node(nodes[2].folder, ref, cut=cut),
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
    ref_url = f"http://127.0.0.1:{port_of(ref_cfg)}"
    wait_http(ref_url, ref_srv)
    t0 = time.monotonic()
    assert httpx.post(f"{ref_url}/v1/packages", content=packages[0][1], timeout=300).is_success
    window = (time.monotonic() - t0) * 2  # the pusher always has more than that to send
    got: dict[str, bytes] = {}
    url = f"http://127.0.0.1:{port_of(cfg)}"
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
    ph.acked_unstored = unstored_in_receipts(db_of(node), list(got.values()))
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
    ph.acked_unstored = unstored_in_receipts(db_of(node), list(got.values()))
    with httpx.Client(timeout=300) as http:
        for _, data in packages[1:]:
            assert http.post(f"{ref_url}/v1/packages", content=data).status_code == 200
    ref_srv.terminate()
    ref_srv.wait(30)
    compare(ph, db_of(ref), db_of(node))
    unanswered = [p for p, _ in packages if p not in got]
    ph.lost += len(unanswered)
    ph.notes.append(f"{len(packages)} packages; {len(skip)} interrupted and sent again at the end")
    ph.sound = sound(cfg, ph) & sound(ref_cfg, ph)
    return ph


PHASES: dict[str, Callable[[Nodes, Path, random.Random, int, Any], Phase]] = {
    "sync": sync,
    "receive": receive,
    "forward": forward,
    "worker": worker,
}
