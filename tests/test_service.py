"""The HTTP service on a real uvicorn server on loopback: a package POSTed, the signed
receipt in the response body, replays, refusals, limits and the stored receipt."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from hub.config import HttpSection, NodeConfig, SigningSection, StoreSection, TrustSection
from hub.package import archive, testpki
from hub.package.build import build
from hub.package.receipt import verify
from hub.package.trust import TrustStore
from hub.service.app import RECEIPT_TYPE, create_app
from hub.store.engine import Store, open_store
from tests.conftest import BACKENDS
from tests.packkit import NOW, RECEIVER, Pki, make_pki, records


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def node(database_url: str, tmp_path: Path, pki: Pki) -> NodeConfig:
    """The receiving node: trusts the test CA, signs receipts with its own ECDSA key."""
    me = testpki.make_node(pki.ca, "ecdsa", RECEIVER, NOW, 50)
    (tmp_path / "me.key").write_bytes(me.key.pem())
    (tmp_path / "me.pem").write_bytes(me.cert.pem())
    (tmp_path / "ca.crl").write_bytes(pki.trust.crls[0].der)
    return NodeConfig(
        store=StoreSection(url=database_url, data_dir=tmp_path / "data"),
        trust=TrustSection(anchors=[pki.dir / "ca.pem"], crls=[tmp_path / "ca.crl"]),
        signing=SigningSection(key=tmp_path / "me.key", cert=tmp_path / "me.pem"),
        http=HttpSection(max_body_mb=1),
    )


@pytest.fixture
def server(node: NodeConfig) -> Iterator[tuple[str, Store]]:
    store = open_store(node)
    port = _free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(node, store), host="127.0.0.1", port=port, log_level="warning")
    )
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", store
    srv.should_exit = True
    t.join(10)
    store.dispose()


@BACKENDS
def test_post_a_package_and_get_the_signed_receipt_back(
    server: tuple[str, Store], pki: Pki
) -> None:
    url, _ = server
    trust = TrustStore(pki.trust.anchors, pki.trust.crls)
    _, data = build(records(2), pki.good, RECEIVER, package_id="PKG-HTTP-0001")
    with httpx.Client(base_url=url, timeout=30) as http:
        r = http.post("/v1/packages", content=data, headers={"Content-Type": "application/zip"})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == RECEIPT_TYPE
        assert r.headers["hub-receipt-status"] == "processed"
        assert r.headers["hub-package-id"] == "PKG-HTTP-0001"
        receipt, _ = verify(r.content, "http", trust, now=NOW, issuer=RECEIVER)
        assert receipt.package_id == "PKG-HTTP-0001"
        assert receipt.counts == {"accepted": sum(len(v) for v in records(2).values())}

        again = http.post("/v1/packages", content=data)
        assert again.status_code == 200 and again.content == r.content
        assert again.headers["hub-receipt-status"] == "duplicate"
        stored = http.get("/v1/packages/PKG-HTTP-0001/receipt")
        assert stored.status_code == 200 and stored.content == r.content
        assert http.get("/v1/packages/PKG-NOPE-0001/receipt").status_code == 404

        # a tampered package: 422 with a signed refusal
        ents = archive.read(data, "p")
        bad = archive.write(
            [(n, b.replace(b"2024", b"2023", 1) if n.startswith("data/") else b) for n, b in ents]
        )
        refused = http.post("/v1/packages", content=bad)
        assert refused.status_code == 422
        rr, _ = verify(refused.content, "http", trust, now=NOW)
        assert rr.refusal is not None and rr.refusal.code == "file.digest"

        too_big = http.post("/v1/packages", content=b"\0" * (1024 * 1024 + 1))
        assert too_big.status_code == 413
        health = http.get("/v1/health").json()
        assert health["platform_code"] == RECEIVER and health["packages"] == {"done": 1}


def test_api_docs_are_served_from_the_package_with_no_internet(server: tuple[str, Store]) -> None:
    url, _ = server
    with httpx.Client(base_url=url, timeout=30) as http:
        page = http.get("/v1/docs")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources, page.text
        assert all(s.startswith("/v1/") for s in sources), sources  # nothing from a CDN
        for s in sources:
            asset = http.get(s)
            assert asset.status_code == 200 and len(asset.content) > 1000, s
        assert "/v1/packages" in http.get("/v1/openapi.json").json()["paths"]


@BACKENDS
def test_copies_of_one_package_posted_at_once_get_one_receipt_byte_for_byte(
    server: tuple[str, Store], pki: Pki
) -> None:
    """Five concurrent POSTs of the same package, four rounds: every answer is the first
    receiver's signed receipt, and the records are stored once."""
    import concurrent.futures

    from sqlalchemy import func, select

    from hub.store.models import RecordVersion

    url, store = server
    for round_no in range(4):
        recs = records(2)  # the same records each round: stored in the first round only
        _, data = build(recs, pki.good, RECEIVER, package_id=f"PKG-RACE-{round_no:04d}")

        def post(_: int, data: bytes = data) -> httpx.Response:
            with httpx.Client(base_url=url, timeout=60) as http:
                return http.post("/v1/packages", content=data)

        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            answers = list(pool.map(post, range(5)))
        assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
        assert len({a.content for a in answers}) == 1  # one receipt, byte for byte
        statuses = sorted(a.headers["hub-receipt-status"] for a in answers)
        assert statuses.count("processed") == 1, statuses
    with store.read() as conn:
        versions = conn.execute(select(func.count()).select_from(RecordVersion)).scalar_one()
    assert versions == sum(len(v) for v in records(2).values())
