"""The demo's night, step by step: two counties take their data in, forward it to the
province, the province verifies, reconciles and judges it, and the verdicts come back down."""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from hub import ENV_DATABASE_URL
from hub.demo.figures import Figures, figures
from hub.demo.nodes import LIANJIANG, Node, clean_folder, make_nodes, serving
from hub.forward import Pass, forward
from hub.generate.batch import jsonl_bytes, write_batch
from hub.generate.generator import Generator
from hub.generate.plant import plant
from hub.package import crypto
from hub.package.build import SigningIdentity, build, data_lines
from hub.package.pki import load_certs
from hub.package.receipt import verify as verify_receipt
from hub.package.trust import TrustStore
from hub.supervise.findings import check
from hub.sync import SyncReport, sync_source

Say = Callable[[str], None]


@dataclass
class Demo:
    out: Path
    nodes: list[Node]
    planted_defects: int = 0
    planted_findings: int = 0
    synced: list[SyncReport] = field(default_factory=list)
    pushed: dict[str, int] = field(default_factory=dict)  # 连江's receipt to its system
    passes: list[Pass] = field(default_factory=list)
    figures: dict[str, Figures] = field(default_factory=dict)


def run(out: Path, seed: int, say: Say) -> Demo:
    """Each node on its own SQLite store in its folder: a HUB_DATABASE_URL of the shell
    would put all three in one database, so it is set aside while the demo runs."""
    aside = os.environ.pop(ENV_DATABASE_URL, None)
    try:
        return _run(out, seed, say)
    finally:
        if aside is not None:
            os.environ[ENV_DATABASE_URL] = aside


def _run(out: Path, seed: int, say: Say) -> Demo:
    now = datetime.now(UTC)
    clean_folder(out)
    say(
        f"three nodes in {out}: a province and two counties, each with its own store, "
        "TEST keys and trust"
    )
    prov, minhou, lianjiang = make_nodes(out, now)
    demo = Demo(out, [prov, minhou, lianjiang])
    try:
        _minhou(demo, minhou, seed, say)
        with serving(prov), serving(lianjiang):
            _lianjiang(demo, lianjiang, out, seed, say)
            for county in (minhou, lianjiang):
                say(f"{county.title} forwards what it accepted to the province, signed")
                cfg, store = county.open()
                demo.passes.append(forward(cfg, store, "province"))
        say("the province judges what arrived against the supervision rule packs")
        _, pstore = prov.open()
        check(pstore)
        for n in demo.nodes:
            cfg, store = n.open()
            demo.figures[n.name] = figures(cfg, store)
    finally:
        for n in demo.nodes:
            if n.store is not None:
                n.store.dispose()
    return demo


def _minhou(demo: Demo, node: Node, seed: int, say: Say) -> None:
    say(
        f"{node.title}: its trading system's nightly batch (40 transactions, 3% realistic "
        "defects, planted supervision patterns) and its legacy system's GBK CSV export land "
        "in its inboxes"
    )
    g = Generator(seed=seed)
    night = g.batch(40)
    demo.planted_findings = len(plant(g, night, 1))
    demo.planted_defects += len(g.inject_defects(night, 0.03))
    write_batch(night, node.folder / "inbox" / "minhou-night" / "night.jsonl", "jsonl")
    for csv in sorted((node.folder / "samples" / "qingshan").glob("*.csv")):
        shutil.copy2(csv, node.folder / "inbox" / "county-qingshan" / csv.name)
    cfg, store = node.open()
    for source, how in (
        ("minhou-night", "a spec JSONL batch"),
        ("county-qingshan", "GBK CSV, through its mapping mappings/qingshan-csv.toml"),
    ):
        say(f"{node.title} pulls its inbox {source} ({how}): validate, reconcile, acknowledge")
        demo.synced.append(sync_source(cfg, store, source))


def _lianjiang(demo: Demo, node: Node, out: Path, seed: int, say: Say) -> None:
    say(
        f"{node.title}: its trading system signs its night (12 transactions, 5% defects) "
        "and pushes it over HTTP"
    )
    g = Generator(seed=seed + 1)
    night = g.batch(12)
    demo.planted_defects += len(g.inject_defects(night, 0.05))
    keys = out / "lianjiang-system" / "keys"
    system = SigningIdentity(
        crypto.load_private_key((keys / "node-ecdsa.TEST-ONLY.key").read_bytes()),
        load_certs((keys / "node-ecdsa.pem").read_bytes())[0],
        [],
    )
    _, data = build(data_lines(io.BytesIO(jsonl_bytes(night)), "night"), system, LIANJIANG)
    r = httpx.post(
        f"{node.url}/v1/packages",
        content=data,
        headers={"Content-Type": "application/zip"},
        timeout=120,
    )
    r.raise_for_status()
    trust = TrustStore.from_files(
        [out / "county-lianjiang" / "keys" / "ca.pem"],
        [out / "county-lianjiang" / "keys" / "ca.crl"],
    )
    receipt, _ = verify_receipt(
        r.content, "receipt", trust, now=datetime.now(UTC), issuer=LIANJIANG
    )
    demo.pushed = dict(receipt.counts)
