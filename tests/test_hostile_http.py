"""The HTTP cases of the hostile corpus (tests/hostile/manifest.toml, ``[[http]]``): each
request against a real uvicorn server on loopback, on a node that has received one package
(the seed) and quarantined one record, with users of every role; each ends in its status
and, where named, its reason, receipt status, text or redirect.  Beside them: 20 distinct
packages pushed at once are each stored once."""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import gzip
import hashlib
import io
import re
import shutil
import socket
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hub.access import users
from hub.config import NodeConfig, StoreSection
from hub.generate.batch import jsonl_bytes
from hub.generate.generator import Generator
from hub.ingest.pipeline import ingest_file
from hub.package.build import build, data_lines
from hub.sections import ConsoleSection, HttpSection, TrustSection
from hub.store.engine import Store, open_store
from hub.store.models import Package, Quarantine, RecordVersion
from tests.packkit import (
    NOW,
    OTHER,
    RECEIVER,
    SENDER,
    Pki,
    entries,
    flip_in,
    make_pki,
    package,
    receiving_node,
    records,
)
from tests.webkit import serving

HERE = Path(__file__).parent / "hostile"
CASES = tomllib.loads((HERE / "manifest.toml").read_text("utf-8"))["http"]
PASSWORD = "闽侯-correct-horse-7"
MB = 1024 * 1024


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@dataclass
class Hub:
    url: str
    store: Store
    pki: Pki
    seed: bytes  # the package received first, from SENDER
    seed_receipt: bytes
    fill: dict[str, str]  # placeholders in a case's path
    tokens: dict[str, str] = field(default_factory=dict)


def _node(pki: Pki, d: Path) -> NodeConfig:
    return receiving_node(NodeConfig(), pki).model_copy(
        update={
            "store": StoreSection(url=f"sqlite:///{d / 'hub.db'}", data_dir=d / "data"),
            "trust": TrustSection(anchors=[pki.dir / "ca.pem"], crls=[pki.dir / "ca.crl"]),
            "http": HttpSection(max_body_mb=1, body_idle_seconds=1, body_timeout_seconds=4),
            "console": ConsoleSection(max_failures=3),
        }
    )


@pytest.fixture(scope="module")
def template(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Hub]:
    """A node's folder, made once: users, a quarantined record, the seed package received;
    each case works on a copy of it."""
    d = tmp_path_factory.mktemp("template")
    store = open_store(_node(pki, d))
    for name, role, code in (
        ("li.na", "administrator", None),
        ("wang.op", "operator", None),
        ("zhao.obs", "observer", None),
        ("minhou", "county", SENDER),
        ("xiamen", "county", OTHER),
    ):
        users.add(store, name, role, PASSWORD, code, "test")
    odd = d / "odd.jsonl"
    odd.write_text('{"dataset": "NO_SUCH_SET", "record": {}}\n')
    ingest_file(store, odd, "county-elsewhere")
    seed = package(pki.good, records(1), package_id="PKG-SEED-0001")
    with serving(_node(pki, d), store) as (url, _):
        r = httpx.post(f"{url}/v1/packages", content=seed, timeout=60)
        assert r.status_code == 200, r.text
    with store.read() as conn:
        key = conn.scalar(
            select(RecordVersion.business_key).where(RecordVersion.dataset == "PROJECT")
        )
        qid = conn.scalar(select(Quarantine.id))
    fill = {
        "{KEY}": str(key),
        "{QID}": str(qid),
        "{SEED}": "PKG-SEED-0001",
        "{SHA}": hashlib.sha256(seed).hexdigest(),
    }
    h = Hub("", store, pki, seed, r.content, fill)
    h.tokens = {n: users.new_token(store, n, "corpus", "test") for n in
                ("li.na", "wang.op", "zhao.obs", "minhou", "xiamen")}  # fmt: skip
    store.dispose()
    return d, h


@pytest.fixture
def hub(template: tuple[Path, Hub], tmp_path: Path) -> Iterator[Hub]:
    src, made = template
    d = tmp_path / "node"
    shutil.copytree(src, d)
    node = _node(made.pki, d)
    store = open_store(node, migrate=False)
    with serving(node, store) as (url, _):
        yield dataclasses.replace(made, url=url, store=store)
    store.dispose()


def _chunks(total: int) -> Iterator[bytes]:
    for _ in range(total // 65536):
        yield b"\0" * 65536


BODIES: dict[str, Callable[[Hub], Any]] = {
    "none": lambda h: b"",
    "garbage": lambda h: b"<html><body>502 Bad Gateway</body></html>",
    "seed": lambda h: h.seed,
    "another package": lambda h: package(h.pki.good, records(2), package_id="PKG-NEW-0001"),
    "tampered package": lambda h: flip_in(
        package(h.pki.good, package_id="PKG-BAD-0001"),
        next(n for n, _ in entries(h.seed) if n.startswith("data/")),
    ),
    "untrusted package": lambda h: package(h.pki.untrusted, package_id="PKG-UNT-0001"),
    "another sender's package": lambda h: build(
        records(1), h.pki.other_platform, RECEIVER, package_id="PKG-OTH-0001", now=NOW
    )[1],
    "2 MB": lambda h: b"\0" * (2 * MB),
    "2 MB chunked": lambda h: _chunks(2 * MB),
    "gzip bomb": lambda h: gzip.compress(b"\0" * (3 * MB)),
    "broken gzip": lambda h: gzip.compress(h.seed)[:-20],
    "gzip of the seed": lambda h: gzip.compress(h.seed),
    "a JSON object": lambda h: b'{"package": "PKG-SEED-0001"}',
}


def _sign_in(h: Hub, http: httpx.Client, name: str) -> tuple[dict[str, str], str]:
    """(the cookie header, the page's CSRF token) of a fresh console session of ``name``."""
    r = http.post("/console/sign-in", data={"name": name, "password": PASSWORD})
    assert r.status_code == 303, r.text
    sid = re.search(r"hub_session=([^;]+)", r.headers["set-cookie"])
    assert sid
    jar = {"Cookie": f"hub_session={sid.group(1)}"}  # Secure: sent by hand over http
    page = http.get("/console/", headers=jar)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    return jar, token.group(1)


def _trickle(h: Hub) -> int:
    """A body sent a byte at a time, slower than the idle limit: the status the server gives."""
    host, port = h.url.removeprefix("http://").split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    s.sendall(b"POST /v1/packages HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nP")
    t0, answer = time.monotonic(), b""
    while b"\r\n" not in answer:
        assert time.monotonic() - t0 < 10, "the trickled body was never cut off"
        time.sleep(0.3)
        with contextlib.suppress(OSError):
            s.sendall(b"K")
        with contextlib.suppress(TimeoutError, BlockingIOError):
            s.setblocking(False)
            answer += s.recv(4096)
            s.setblocking(True)
    s.close()
    return int(answer.split()[1])


def _request(h: Hub, case: dict[str, Any]) -> httpx.Response:
    path = case["path"]
    for k, v in h.fill.items():
        path = path.replace(k, v)
    headers = dict(case.get("headers", {}))
    for k, v in headers.items():
        headers[k] = h.fill.get(v, v)
    who = case.get("who", "nobody")
    with httpx.Client(base_url=h.url, timeout=60, follow_redirects=False) as http:
        for step in case.get("before", []):
            if step == "three failed sign-ins":
                for i in range(3):
                    bad = {"name": "li.na", "password": f"guess {i}"}
                    assert http.post("/console/sign-in", data=bad).status_code == 401
            else:
                raise AssertionError(f"unknown step {step!r}")
        data = dict(case.get("form", {}))
        if who.startswith("session:"):
            jar, token = _sign_in(h, http, who.removeprefix("session:"))
            headers.update(jar)
            csrf = case.get("csrf", "own")
            if csrf == "own":
                data["csrf"] = token
            elif csrf == "another session's":
                data["csrf"] = _sign_in(h, http, who.removeprefix("session:"))[1]
        elif who == "wrong token":
            headers["Authorization"] = "Bearer hub_not-a-token-at-all"
        elif who == "empty bearer":
            headers["Authorization"] = "Bearer"
        elif who == "forged session":
            headers["Cookie"] = "hub_session=" + "A" * 43
        elif who != "nobody":
            headers["Authorization"] = f"Bearer {h.tokens[who]}"
        body = BODIES[case.get("body", "none")](h)
        if data:
            return http.request(case["method"], path, headers=headers, data=data)
        return http.request(case["method"], path, headers=headers, content=body)


def test_every_http_case_is_described() -> None:
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names) >= 30
    for c in CASES:
        assert c["why"] and c["status"] and c["path"].startswith("/"), c
        assert c.get("body", "none") in BODIES or c.get("body") == "trickle", c


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_http_case_ends_in_its_outcome(case: dict[str, Any], hub: Hub) -> None:
    with hub.store.read() as conn:
        before = conn.scalar(select(func.count()).select_from(RecordVersion)) or 0
    if case.get("body") == "trickle":
        assert _trickle(hub) == case["status"]
        return
    r = _request(hub, case)
    assert r.status_code == case["status"], r.text[:1000]
    assert "Traceback" not in r.text
    if "reason" in case:
        assert r.json()["reason"] == case["reason"], r.text
    if "receipt" in case:
        assert r.headers["hub-receipt-status"] == case["receipt"]
        assert r.headers["content-type"].startswith("application/vnd.hub")
    if "text" in case:
        assert case["text"] in r.text, r.text[:1000]
    if "location" in case:
        assert r.headers["location"] == case["location"]
    if case.get("same_as_seed_receipt"):
        assert r.content == hub.seed_receipt
    with hub.store.read() as conn:
        after = conn.scalar(select(func.count()).select_from(RecordVersion)) or 0
    if case.get("stores"):
        assert after > before
    else:
        assert after == before, "a refused or read-only request stored records"


def _distinct(i: int) -> dict[str, list[bytes]]:
    """The records of one transaction of its own (a generator seeded by ``i``)."""
    return data_lines(io.BytesIO(jsonl_bytes(Generator(seed=1000 + i).batch(1))), "gen")


def test_twenty_distinct_packages_pushed_at_once_are_each_stored_once(hub: Hub) -> None:
    made = [package(hub.pki.good, _distinct(i), package_id=f"PKG-MANY-{i:04d}") for i in range(20)]

    def post(data: bytes) -> httpx.Response:
        with httpx.Client(base_url=hub.url, timeout=120) as http:
            return http.post("/v1/packages", content=data)

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(post, made))
    assert [a.status_code for a in answers] == [200] * 20, [a.text for a in answers]
    statuses = sorted(a.headers["hub-receipt-status"] for a in answers)
    with hub.store.read() as conn:
        stored = conn.execute(
            select(Package.package_id, func.count()).group_by(Package.package_id)
        ).all()
    mine = {p: n for p, n in stored if p.startswith("PKG-MANY-")}
    assert mine == {f"PKG-MANY-{i:04d}": 1 for i in range(20)}
    assert statuses == ["processed"] * 20
    want = sum(len(v) for i in range(20) for v in _distinct(i).values())
    with hub.store.read() as conn:
        got = conn.scalar(
            select(func.count())
            .select_from(RecordVersion)
            .join(Package, Package.id == RecordVersion.package_id)
            .where(Package.package_id.like("PKG-MANY-%"))
        )
    assert got == want  # every record of every package, once
