"""The http adapter: pushing to a real `hub serve`, faults from a scripted HTTP server, and
pulling a county's paginated REST API."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi import FastAPI, Request, Response

from adapters.http import HttpAdapter
from hub.cli import cli
from hub.config import NodeConfig, SigningSection, StoreSection, TrustSection, UpstreamSection
from hub.forward import push_package, redrive
from hub.package import testpki
from hub.package.receipt import verify as verify_receipt
from hub.package.trust import TrustStore
from hub.service.app import create_app
from hub.store.engine import Store, open_store
from hub.sync import sync_source
from tests.adapter_contract import PullContract
from tests.httpserver import serve
from tests.legacy import transaction_records, xishan_rows
from tests.packkit import NOW, RECEIVER, Pki, make_pki, package, wall_clock

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    HttpAdapter._breakers.clear()
    yield
    HttpAdapter._breakers.clear()


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The adapter's backoff waits, recorded instead of slept."""
    seen: list[float] = []
    monkeypatch.setattr(HttpAdapter, "sleep", staticmethod(seen.append))
    return seen


def _sender(tmp_path: Path, url: str, **opts: Any) -> tuple[NodeConfig, Store]:
    cfg = NodeConfig(
        store=StoreSection(data_dir=tmp_path / "sender"),
        upstream=UpstreamSection(
            adapter="http", options={"url": url, "backoff_seconds": 0.01, **opts}
        ),
    )
    return cfg, open_store(cfg)


# -- push to the real receiving service -----------------------------------------------------
def test_push_to_hub_serve_delivers_and_keeps_the_signed_receipt(tmp_path: Path, pki: Pki) -> None:
    me = testpki.make_node(pki.ca, "ecdsa", RECEIVER, NOW, 50)
    (tmp_path / "me.key").write_bytes(me.key.pem())
    (tmp_path / "me.pem").write_bytes(me.cert.pem())
    (tmp_path / "ca.crl").write_bytes(pki.trust.crls[0].der)
    upstream = NodeConfig(
        store=StoreSection(data_dir=tmp_path / "province"),
        trust=TrustSection(anchors=[pki.dir / "ca.pem"], crls=[tmp_path / "ca.crl"]),
        signing=SigningSection(key=tmp_path / "me.key", cert=tmp_path / "me.pem"),
    )
    province = open_store(upstream)
    data = package(pki.good, package_id="PKG-UP-0001")
    try:
        with serve(create_app(upstream, province)) as url:
            cfg, store = _sender(tmp_path, url)
            r = push_package(cfg, store, data, "PKG-UP-0001.zip")
            assert r.status == "delivered" and r.attempts == 1 and r.receipt
            receipt, _ = verify_receipt(
                r.receipt,
                "push",
                TrustStore(pki.trust.anchors, pki.trust.crls),
                now=wall_clock(),
                issuer=RECEIVER,
            )
            assert receipt.package_id == "PKG-UP-0001"
            again = push_package(cfg, store, data, "PKG-UP-0001.zip")
            assert again.status == "already" and again.id == r.id
            store.dispose()
    finally:
        province.dispose()


# -- faults from a scripted server ----------------------------------------------------------
class Script:
    """Answers each POST with the next scripted action: a status (with headers) or a delay."""

    def __init__(self, *actions: Any) -> None:
        self.actions = list(actions)
        self.calls = 0
        self.app = FastAPI()

        @self.app.post("/v1/packages")
        async def take(request: Request) -> Response:
            await request.body()
            self.calls += 1
            action = self.actions.pop(0) if self.actions else 200
            if isinstance(action, float):  # a peer too slow to answer in time
                await asyncio.sleep(action)
                action = 200
            status, headers = action if isinstance(action, tuple) else (action, {})
            body = b"signed-receipt" if status == 200 else b"busy"
            return Response(body, status_code=status, headers=headers)


def test_500s_then_200_is_delivered_with_bounded_exponential_waits(
    tmp_path: Path, pki: Pki, waits: list[float]
) -> None:
    s = Script(500, 502, 200)
    with serve(s.app) as url:
        cfg, store = _sender(tmp_path, url, max_attempts=4, backoff_seconds=1)
        r = push_package(cfg, store, package(pki.good), "p.zip")
        store.dispose()
    assert (r.status, r.attempts, s.calls) == ("delivered", 3, 3)
    assert len(waits) == 2 and 0 <= waits[0] <= 1 and 0 <= waits[1] <= 2  # full jitter


def test_429_waits_what_retry_after_says(tmp_path: Path, pki: Pki, waits: list[float]) -> None:
    s = Script((429, {"Retry-After": "7"}), (503, {"Retry-After": "3"}), 200)
    with serve(s.app) as url:
        cfg, store = _sender(tmp_path, url, max_attempts=3)
        r = push_package(cfg, store, package(pki.good), "p.zip")
        store.dispose()
    assert r.status == "delivered" and waits == [7.0, 3.0]


def test_timeouts_then_a_dead_letter_entry_that_can_be_redriven(
    tmp_path: Path, pki: Pki, waits: list[float]
) -> None:
    s = Script(1.5, 1.5, 1.5)
    with serve(s.app) as url:
        cfg, store = _sender(tmp_path, url, max_attempts=3, read_timeout=0.3)
        r = push_package(cfg, store, package(pki.good, package_id="PKG-DEAD-0001"), "p.zip")
        assert r.status == "dead" and "ReadTimeout" in (r.error or "") and s.calls == 3
        assert len(waits) == 2  # bounded: three attempts, two waits
        store.dispose()
        cfg_path = tmp_path / "sender.toml"
        cfg_path.write_text(
            f'[store]\ndata_dir = "{tmp_path / "sender"}"\n'
            f'[upstream]\nadapter = "http"\n[upstream.options]\nurl = "{url}"\n'
        )
        out = CliRunner().invoke(
            cli, ["package", "deliveries", "--dead", "--config", str(cfg_path), "--format", "json"]
        )
        assert out.exit_code == 0, out.output
        assert '"package_id": "PKG-DEAD-0001"' in out.stdout and '"status": "dead"' in out.stdout
        # the peer is well again: re-drive the dead letter
        cfg, store = _sender(tmp_path, url)
        again = redrive(cfg, store, r.id)
        store.dispose()
    assert again.status == "delivered" and again.id == r.id and s.calls == 4


def test_a_circuit_breaker_stops_calling_a_failing_peer(
    tmp_path: Path, pki: Pki, waits: list[float]
) -> None:
    s = Script(*[500] * 10)
    with serve(s.app) as url:
        cfg, store = _sender(tmp_path, url, max_attempts=2, breaker_failures=2)
        results = [
            push_package(cfg, store, package(pki.good, package_id=f"PKG-CB-000{i}"), "p.zip")
            for i in range(3)
        ]
        store.dispose()
    assert [r.status for r in results] == ["dead", "dead", "dead"]
    assert s.calls == 4  # the third push never reached the peer
    assert "circuit open" in (results[2].error or "")


def test_a_refusal_is_not_retried(tmp_path: Path, pki: Pki, waits: list[float]) -> None:
    s = Script(422)
    with serve(s.app) as url:
        cfg, store = _sender(tmp_path, url)
        r = push_package(cfg, store, package(pki.good), "p.zip")
        store.dispose()
    assert (r.status, s.calls, waits) == ("refused", 1, [])


# -- pulling a county's REST API --------------------------------------------------------------
ROWS = [{"id": i, **r} for i, r in enumerate(xishan_rows(transaction_records())["t_xiangmu"], 1)]


class CountyApi:
    """GET /api/t_xiangmu?since=<id>: rows after that id, two per page."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.app = FastAPI()

        self.receipts: list[dict[str, Any]] = []

        @self.app.post("/api/receipts")
        async def receipts(request: Request) -> dict[str, int]:
            self.receipts.append(await request.json())
            return {"taken": len(self.receipts)}

        @self.app.get("/api/t_xiangmu")
        def page(since: int = 0) -> dict[str, Any]:
            after = [r for r in self.rows if r["id"] > since][:2]
            body = [{**r, "gxsj": r["gxsj"].strftime("%Y-%m-%d %H:%M:%S")} for r in after]
            return {"records": body, "next": str(after[-1]["id"]) if after else None}


class TestHttpPullContract(PullContract):
    adapter = "http"
    mapping = ROOT / "mappings" / "xishan-mariadb.toml"

    @pytest.fixture(autouse=True)
    def _api(self) -> Iterator[None]:
        self.api = CountyApi()
        with serve(self.api.app) as url:
            self.url = url
            yield

    def source_options(self, peer_dir: Path) -> dict[str, Any]:
        return {"url": getattr(self, "url", "http://127.0.0.1:9"), "pull_path": "/api/t_xiangmu"}

    def put(self, part: int) -> int:
        rows = ROWS[:2] if part == 0 else ROWS[2:]
        self.api.rows += rows
        return len(rows)

    def test_each_pages_verdicts_go_back_to_the_county_api(
        self, node: NodeConfig, hub_store: Store
    ) -> None:
        rows = [dict(r) for r in ROWS]
        rows[2]["qhdm"] = "999999"  # no such region: rejected
        self.api.rows += rows
        src = node.sources["peer"]
        opts = {**src.options, "receipt_path": "/api/receipts"}
        cfg = node.model_copy(
            update={"sources": {"peer": src.model_copy(update={"options": opts})}}
        )
        report = sync_source(cfg, hub_store, "peer")
        assert [b.as_dict()["verdicts_left"] for b in report.batches] == [
            f"{self.url}/api/receipts (2 verdict(s))",
            f"{self.url}/api/receipts (1 verdict(s))",
        ]
        got = [v for r in self.api.receipts for v in r["verdicts"]]
        assert [v["outcome"] for v in got] == ["accepted", "accepted", "rejected"]
        assert got[2]["key"] == rows[2]["xmbh"] and got[2]["value"] == "999999"
        assert all(
            r["batch"].startswith(f"{self.url}/api/t_xiangmu?since=") for r in self.api.receipts
        )


@pytest.fixture
def https_peer(tmp_path: Path) -> Iterator[str]:
    """An HTTPS server on loopback with a self-signed certificate, refusing every package."""
    import datetime as dt
    import http.server
    import ipaddress
    import ssl
    import threading

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "peer.TEST-ONLY.pem"
    pem.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )

    class Refuse(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(422)
            self.send_header("Content-Length", "7")
            self.end_headers()
            self.wfile.write(b"refused")

        def log_message(self, *_: Any) -> None:
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Refuse)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pem)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_tls_is_verified_unless_switched_off(tmp_path: Path, https_peer: str) -> None:
    """The TLS context is built once per process and shared by every client: a certificate
    nobody vouches for is still refused, and ``verify_tls = false`` still reaches the peer."""
    from hub.errors import RetryableError
    from hub.sources import open_upstream

    for verify in (True, True, False):  # the second client reuses the first one's context
        cfg, store = _sender(tmp_path, https_peer, verify_tls=verify, max_attempts=1)
        store.dispose()
        with open_upstream(cfg) as adapter:
            if verify:
                with pytest.raises(RetryableError, match="CERTIFICATE_VERIFY_FAILED"):
                    adapter.push("p.zip", b"PK")
            else:
                got = adapter.push("p.zip", b"PK")
                assert (got.delivered, got.status, got.detail) == (False, "422 refused", "refused")
