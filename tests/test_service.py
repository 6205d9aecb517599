"""The HTTP service on a real uvicorn server on loopback: a package POSTed, the signed
receipt in the response body, replays, refusals, limits and the stored receipt."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.config import HttpSection, NodeConfig, SigningSection, StoreSection, TrustSection
from hub.package import archive, testpki
from hub.package.build import build
from hub.package.receipt import verify
from hub.package.trust import TrustStore
from hub.service.app import RECEIPT_TYPE
from hub.store.engine import Store
from tests.conftest import BACKENDS
from tests.packkit import NOW, RECEIVER, Pki, make_pki, records, wall_clock
from tests.webkit import serving


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


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
        http=HttpSection(max_body_mb=1, body_idle_seconds=1, body_timeout_seconds=4),
    )


@pytest.fixture
def server(node: NodeConfig) -> Iterator[tuple[str, Store]]:
    with serving(node) as got:
        yield got


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
        receipt, _ = verify(r.content, "http", trust, now=wall_clock(), issuer=RECEIVER)
        assert receipt.package_id == "PKG-HTTP-0001"
        assert receipt.counts == {"accepted": sum(len(v) for v in records(2).values())}

        again = http.post("/v1/packages", content=data)
        assert again.status_code == 200 and again.content == r.content
        assert again.headers["hub-receipt-status"] == "duplicate"
        proof = {"Hub-Package-Sha256": hashlib.sha256(data).hexdigest()}
        stored = http.get("/v1/packages/PKG-HTTP-0001/receipt", headers=proof)
        assert stored.status_code == 200 and stored.content == r.content
        # only whoever holds the package reads its receipt (every verdict and value)
        assert http.get("/v1/packages/PKG-HTTP-0001/receipt").status_code == 404
        wrong = {"Hub-Package-Sha256": "0" * 64}
        assert http.get("/v1/packages/PKG-HTTP-0001/receipt", headers=wrong).status_code == 404
        assert http.get("/v1/packages/PKG-NOPE-0001/receipt", headers=proof).status_code == 404

        # a tampered package: 422 with a signed refusal
        ents = archive.read(data, "p")
        bad = archive.write(
            [(n, b.replace(b"2024", b"2023", 1) if n.startswith("data/") else b) for n, b in ents]
        )
        refused = http.post("/v1/packages", content=bad)
        assert refused.status_code == 422
        rr, _ = verify(refused.content, "http", trust, now=wall_clock())
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


def _audit_rows(store: Store) -> int:
    from sqlalchemy import func, select

    from hub.store.models import AuditEntry

    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def test_refusals_before_authentication_cost_nothing_durable(server: tuple[str, Store]) -> None:
    url, store = server
    before = _audit_rows(store)
    with httpx.Client(base_url=url, timeout=30) as http:
        for i in range(10):
            r = http.post("/v1/packages", content=f"garbage {i}".encode())
            assert r.status_code == 422 and r.headers["content-type"] == "application/json"
            assert r.json()["reason"] == "archive.unreadable"
    assert _audit_rows(store) == before  # no audit row, no signature for anonymous garbage


def _raw(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def test_slow_bodies_and_unfinished_headers_are_cut_off(server: tuple[str, Store]) -> None:
    url, _ = server
    trickle = _raw(url)
    trickle.sendall(b"POST /v1/packages HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nP")
    t0 = time.monotonic()
    answer = b""
    while b"\r\n\r\n" not in answer:
        time.sleep(0.3)
        with contextlib.suppress(OSError):
            trickle.sendall(b"K")  # a byte at a time, slower than the idle limit allows
        with contextlib.suppress(TimeoutError, BlockingIOError):
            trickle.setblocking(False)
            answer += trickle.recv(4096)
            trickle.setblocking(True)
        assert time.monotonic() - t0 < 8, "the trickled body was never cut off"
    assert answer.startswith(b"HTTP/1.1 408")
    trickle.close()
    stalled = [_raw(url) for _ in range(20)]
    for s in stalled:
        s.sendall(b"POST /v1/packages HTTP/1.1\r\nHost: x\r\n")  # and never the rest
    t0 = time.monotonic()
    for s in stalled:
        s.settimeout(8)
        assert s.recv(100) == b""  # closed by the server
        s.close()
    assert time.monotonic() - t0 < 8


def test_gzip_bodies_are_decoded_within_the_same_limit(server: tuple[str, Store], pki: Pki) -> None:
    url, _ = server
    _, data = build(records(1), pki.good, RECEIVER, package_id="PKG-GZIP-0001")
    with httpx.Client(base_url=url, timeout=30) as http:
        gz = {"Content-Encoding": "gzip"}
        r = http.post("/v1/packages", content=gzip.compress(data), headers=gz)
        assert r.status_code == 200 and r.headers["hub-receipt-status"] == "processed"
        bomb = gzip.compress(b"\0" * (3 * 1024 * 1024))  # 3 MB inflated, 1 MB allowed
        assert http.post("/v1/packages", content=bomb, headers=gz).status_code == 413
        br = {"Content-Encoding": "br"}
        assert http.post("/v1/packages", content=data, headers=br).status_code == 415


def test_the_administration_api_knows_who_may_do_what(
    server: tuple[str, Store], pki: Pki, tmp_path: Path
) -> None:
    from hub.access import users
    from hub.ingest.pipeline import ingest_file
    from tests.packkit import OTHER, SENDER

    url, store = server
    for name, role, code in (
        ("admin", "administrator", None),
        ("op", "operator", None),
        ("obs", "observer", None),
        ("mine", "county", SENDER),
        ("theirs", "county", OTHER),
    ):
        users.add(store, name, role, None, code, "test")
    tok = {
        n: users.new_token(store, n, "t", "test") for n in ("admin", "op", "obs", "mine", "theirs")
    }
    _, data = build(records(1), pki.good, RECEIVER, package_id="PKG-API-0001")
    odd = tmp_path / "odd.jsonl"
    odd.write_text('{"dataset": "NO_SUCH_SET", "record": {}}\n')
    ingest_file(store, odd, "county-elsewhere")  # a quarantined record of another source

    def get(path: str, who: str | None, **kw: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {tok[who]}"} if who else {}
        with httpx.Client(base_url=url, timeout=30) as http:
            return http.get(path, headers=headers, **kw)

    def post(path: str, who: str, **kw: Any) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=30) as http:
            return http.post(path, headers={"Authorization": f"Bearer {tok[who]}"}, **kw)

    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.post("/v1/packages", content=data).status_code == 200
        assert http.get("/v1/runs").status_code == 401  # nobody
        wrong = http.get("/v1/runs", headers={"Authorization": "Bearer hub_not-a-token"})
        assert wrong.status_code == 401
    runs = get("/v1/runs", "obs", params={"limit": 1000}).json()
    assert {r["source"] for r in runs["rows"]} == {SENDER, "county-elsewhere"}, runs
    assert {r["source"] for r in get("/v1/runs", "mine").json()["rows"]} == {SENDER}
    assert get("/v1/runs", "theirs").json()["rows"] == []  # another county sees none of it
    everyone = {x["name"]: x for x in get("/v1/sources", "obs").json()}
    assert {SENDER, "county-elsewhere"} <= set(everyone)
    assert everyone["county-elsewhere"]["quarantined"] == 1
    assert [x["name"] for x in get("/v1/sources", "mine").json()] == [SENDER]
    assert get("/v1/sources", "theirs").json() == []
    assert get("/v1/quarantine", "obs").json()["total"] == 1
    [q0] = get("/v1/quarantine", "obs").json()["rows"]
    whole = get(f"/v1/quarantine/{q0['id']}", "obs").json()
    assert "NO_SUCH_SET" in whole["raw_record"] and whole["issues"], whole
    assert get(f"/v1/quarantine/{q0['id']}", "mine").status_code == 404  # another source's
    from hub.generate.generator import Generator

    code = Generator(seed=3).batch(1)[0]["record"]["PROJECT_CODE"]
    tied = get(f"/v1/lifecycle/{code}", "obs").json()
    assert len(tied) >= 4 and {x["source"] for x in tied} == {SENDER}, tied
    assert len(get(f"/v1/lifecycle/{code}", "mine").json()) == len(tied)
    assert get(f"/v1/lifecycle/{code}", "theirs").json() == []
    findings = get("/v1/findings", "obs").json()
    assert findings["rows"] == [] and findings["total"] == 0  # a generated batch keeps the law
    assert post("/v1/findings/1/review", "obs", params={"note": "x"}).status_code == 403
    assert post("/v1/findings/1/review", "op", params={"note": "x"}).status_code == 404
    assert get("/v1/runs", "theirs", params={"source": SENDER}).status_code == 403
    assert get("/v1/quarantine", "mine").json()["rows"] == []
    [q] = get("/v1/quarantine", "op").json()["rows"]
    assert (
        post(f"/v1/quarantine/{q['id']}/discard", "obs", params={"reason": "x"}).status_code == 403
    )
    assert (
        post(f"/v1/quarantine/{q['id']}/discard", "mine", params={"reason": "x"}).status_code == 403
    )
    ok = post(f"/v1/quarantine/{q['id']}/discard", "op", params={"reason": "测试数据"})
    assert ok.status_code == 200 and ok.json() == {"discarded": [q["id"]]}
    users.disable(store, "op", "test")
    assert get("/v1/runs", "op").status_code == 401  # disabled: its tokens stop at once
    paths = get("/v1/openapi.json", None).json()["paths"]
    assert {"/v1/runs", "/v1/rejected", "/v1/held", "/v1/conflicts", "/v1/schedules"} <= set(paths)


@BACKENDS
def test_health_readiness_and_metrics_read_the_store(server: tuple[str, Store], pki: Pki) -> None:
    from prometheus_client.parser import text_string_to_metric_families
    from sqlalchemy import text

    from tests.packkit import SENDER

    url, store = server
    _, data = build(records(1), pki.good, RECEIVER, package_id="PKG-METRICS-01")
    with httpx.Client(base_url=url, timeout=30) as http:
        assert http.post("/v1/packages", content=data).status_code == 200
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").json() == {"status": "ready"}
        body = http.get("/metrics").text
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for fam in text_string_to_metric_families(body)
            for s in fam.samples
        }
        accepted = samples[("hub_records_total", (("outcome", "accepted"), ("source", SENDER)))]
        assert accepted == sum(len(v) for v in records(1).values())
        assert samples[("hub_open_items", (("kind", "quarantine"),))] == 0
        assert (
            samples[("hub_certificate_days_left", (("certificate", "signing certificate"),))] > 300
        )
        assert any(name == "hub_last_run_duration_seconds" for name, _ in samples)
        with store.write() as conn:  # the store falls behind this hub's schema
            conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))
        not_ready = http.get("/readyz")
        assert not_ready.status_code == 503 and "hub db upgrade" in not_ready.text


def _packages(store: Store) -> int:
    from sqlalchemy import func, select

    from hub.store.models import Package

    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(Package)).scalar() or 0)


@BACKENDS
def test_push_tokens_bind_a_pusher_to_its_own_platform(node: NodeConfig, pki: Pki) -> None:
    from hub.access import users
    from tests.packkit import OTHER, SENDER

    strict = node.model_copy(
        update={"http": node.http.model_copy(update={"require_push_token": True})}
    )
    with serving(strict) as (url, store):
        for name, role, code in (
            ("mine", "county", SENDER),
            ("theirs", "county", OTHER),
            ("obs", "observer", None),
        ):
            users.add(store, name, role, None, code, "test")
        tok = {n: users.new_token(store, n, "push", "test") for n in ("mine", "theirs", "obs")}
        _, data = build(records(1), pki.good, RECEIVER, package_id="PKG-PUSH-0001")
        audited = _audit_rows(store)

        def push(token: str | None) -> httpx.Response:
            headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
            with httpx.Client(base_url=url, timeout=30) as http:
                return http.post("/v1/packages", content=data, headers=headers)

        assert push(None).status_code == 401  # this node requires a token
        assert push("hub_not-a-token").status_code == 401
        assert push(tok["obs"]).status_code == 403  # not a county's token
        other = push(tok["theirs"])  # a county pushing another county's package
        assert other.status_code == 403 and other.json()["reason"] == "push.sender", other.text
        assert _packages(store) == 0 and _audit_rows(store) == audited  # all of that stored nothing
        ok = push(tok["mine"])
        assert ok.status_code == 200 and ok.headers["Hub-Receipt-Status"] == "processed"
        assert _packages(store) == 1


@BACKENDS
def test_a_token_is_checked_when_sent_even_where_none_is_required(
    server: tuple[str, Store], pki: Pki
) -> None:
    url, store = server
    _, data = build(records(1), pki.good, RECEIVER, package_id="PKG-PUSH-0002")
    with httpx.Client(base_url=url, timeout=30) as http:
        bad = http.post("/v1/packages", content=data, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and _packages(store) == 0
        assert http.post("/v1/packages", content=data).status_code == 200  # the signature alone
