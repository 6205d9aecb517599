"""The demo's three nodes: folders as `hub init` writes them, trust exchanged between them,
and each one's HTTP service on a loopback port in a thread of this process."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from hub.config import NodeConfig, load_config
from hub.errors import UsageError
from hub.node_init import init_node
from hub.package import testpki
from hub.store.engine import Store, open_store

MARKER = ".hub-demo"  # a folder holding this was written by `hub demo`: a new run may clear it
PROVINCE = "12350000MB0100001C"  # 福建省公共资源交易平台 (the codes are well-formed, invented)
MINHOU = "12350121MB0200002L"  # 闽侯县公共资源交易中心
LIANJIANG = "12350122MB0300003Q"  # 连江县公共资源交易中心
LIANJIANG_SYSTEM = "91350122MA04000047"  # the trading system 连江 runs, which pushes to its hub


@dataclass
class Node:
    name: str
    title: str
    platform: str
    folder: Path
    port: int = 0
    cfg: NodeConfig | None = None
    store: Store | None = None

    @property
    def config(self) -> Path:
        return self.folder / "node.toml"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def open(self) -> tuple[NodeConfig, Store]:
        if self.cfg is None or self.store is None:
            self.cfg = load_config(self.config)
            self.store = open_store(self.cfg)
        return self.cfg, self.store


def clean_folder(out: Path) -> None:
    """Start clean: remove what an earlier demo wrote, but never a folder it did not write."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise UsageError(
                f"{out} exists and was not written by `hub demo`; give another --out folder"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by `hub demo`; the next run removes this folder\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PROV_ENC = "province-enc.pem"  # the province's encryption certificate, in each county's keys/


def make_nodes(out: Path, now: datetime) -> tuple[Node, Node, Node]:
    """The province and two counties, each with its own TEST PKI, and the trust between
    them: the province accepts what the counties sign and they check its receipts;
    连江's hub accepts what its county trading system signs."""
    prov = Node("province", "福建省平台 (province)", PROVINCE, out / "province", free_port())
    minhou = Node("county-minhou", "闽侯县 (county)", MINHOU, out / "county-minhou")
    lianjiang = Node(
        "county-lianjiang", "连江县 (county)", LIANJIANG, out / "county-lianjiang", free_port()
    )
    for n, level in ((prov, "province"), (minhou, "county"), (lianjiang, "county")):
        init_node(n.folder, n.platform, level, now, name=n.title, examples=n is minhou)
    testpki.init(out / "lianjiang-system" / "keys", LIANJIANG_SYSTEM, now)
    _trust(prov, minhou.folder, "county-minhou")
    _trust(prov, lianjiang.folder, "county-lianjiang")
    _trust(minhou, prov.folder, "province")
    _trust(lianjiang, prov.folder, "province")
    _trust(lianjiang, out / "lianjiang-system", "lianjiang-system")
    # the province takes packages sealed to its encryption certificate only
    _append(
        prov,
        "\n[encryption]   # packages for the province are sealed to this certificate\n"
        'cert = "keys/node-ecdsa-enc.pem"\nkey = "keys/node-ecdsa-enc.TEST-ONLY.key"\n'
        "require = true\n",
    )
    for county in (minhou, lianjiang):
        shutil.copy2(prov.folder / "keys" / "node-ecdsa-enc.pem", county.folder / "keys" / PROV_ENC)
    target = (
        "\n[forward.province]   # every accepted record goes on to the province (hub forward)\n"
        f'receiver = "{PROVINCE}"\nevery = "10s"\n'
        f'encrypt_to = ["keys/{PROV_ENC}"]   # sealed for the province: a relay cannot read it\n'
        f'[forward.province.options]\nurl = "{prov.url}"\n'
    )
    _set_port(prov)
    _set_port(lianjiang)
    _append(
        minhou,
        "\n[sources.minhou-night]   # the nightly batch of 闽侯's trading system (spec JSONL)\n"
        'adapter = "files"\n[sources.minhou-night.options]\ninbox = "inbox/minhou-night"\n'
        'pattern = ["*.jsonl"]\nmin_age_seconds = 0\n' + target,
    )
    _append(lianjiang, target)
    return prov, minhou, lianjiang


def _trust(node: Node, other: Path, tag: str) -> None:
    """Copy the other node's CA certificates and CRLs into this node's trust/ folder."""
    for f in sorted((other / "keys").glob("ca*")):
        if f.suffix in (".pem", ".crl"):
            shutil.copy2(f, node.folder / "trust" / f"{tag}-{f.name}")


def _set_port(node: Node) -> None:
    text = node.config.read_text("utf-8")
    node.config.write_text(text.replace("port = 8480", f"port = {node.port}"), "utf-8")


def _append(node: Node, text: str) -> None:
    with node.config.open("a", encoding="utf-8") as fh:
        fh.write(text)


@contextmanager
def serving(node: Node) -> Iterator[str]:
    """The node's `hub serve` app (packages in, receipts out, console) in a thread."""
    from hub.service.app import create_app  # noqa: PLC0415  (FastAPI loads only here)
    from hub.service.server import server  # noqa: PLC0415

    cfg, store = node.open()
    srv = server(create_app(cfg, store), "127.0.0.1", node.port, 10.0, log_level="warning")
    t = threading.Thread(target=srv.run, name=f"serve-{node.name}", daemon=True)
    t.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not t.is_alive():
            raise UsageError(f"{node.name}: the HTTP service did not start on {node.url}")
        time.sleep(0.02)
    try:
        yield node.url
    finally:
        srv.should_exit = True
        t.join(10)
