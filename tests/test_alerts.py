"""Alerts: what the node finds wrong with itself, each kept with a seen flag, and a webhook
that gets every new one.  Conditions are made real: a certificate and a CRL that end soon, a
schedule whose source has not succeeded for two periods, a delivery upstream that ran out of
retries; the webhook is an HTTP server on loopback."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy import insert, select

from hub.config import (
    AlertsSection,
    NodeConfig,
    ScheduleSection,
    SigningSection,
    SourceSection,
    StoreSection,
    TrustSection,
)
from hub.package import testpki
from hub.schedule import ledger
from hub.store.engine import Store, open_store
from hub.store.models import Alert, AuditEntry, Delivery
from hub.watch.alerts import check, expiry_level, listing, mark_seen, unseen
from hub.watch.notify import notify
from tests.conftest import BACKENDS
from tests.packkit import NOW, RECEIVER, Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))  # its CRL's next update: NOW + 7 days


def _node(
    database_url: str, tmp_path: Path, pki: Pki, webhook: str = "", scheduled: bool = False
) -> NodeConfig:
    me = testpki.make_node(pki.ca, "ecdsa", RECEIVER, NOW, 50, not_after=NOW + timedelta(days=20))
    (tmp_path / "me.key").write_bytes(me.key.pem())
    (tmp_path / "me.pem").write_bytes(me.cert.pem())
    return NodeConfig(
        store=StoreSection(url=database_url, data_dir=tmp_path / "data"),
        trust=TrustSection(anchors=[pki.dir / "ca.pem"], crls=[pki.dir / "ca.crl"]),
        signing=SigningSection(key=tmp_path / "me.key", cert=tmp_path / "me.pem"),
        sources={"qingshan": SourceSection(adapter="files", options={"inbox": str(tmp_path)})},
        schedules={"qingshan-inbox": ScheduleSection(source="qingshan", every="15m")}
        if scheduled
        else {},
        alerts=AlertsSection(webhook=webhook),
    )


@pytest.fixture
def store(database_url: str, tmp_path: Path, pki: Pki) -> Iterator[Store]:
    s = open_store(_node(database_url, tmp_path, pki))
    yield s
    s.dispose()


def _open(store: Store) -> dict[tuple[str, str], str]:
    return {(a["kind"], a["subject"].split(" ")[0]): a["level"] for a in listing(store)}


def test_expiry_levels_are_the_smallest_step_reached() -> None:
    steps = (30, 7, 1)
    assert [expiry_level(d, steps) for d in (45, 30, 20, 7, 3, 0.5, 0, -2)] == [
        None, "30d", "30d", "7d", "7d", "1d", "expired", "expired"
    ]  # fmt: skip


@BACKENDS
def test_certificates_and_crls_alert_at_30_7_and_1_days_and_again_when_crossing(
    store: Store, database_url: str, tmp_path: Path, pki: Pki
) -> None:
    cfg = _node(database_url, tmp_path, pki)
    assert len(check(cfg, store, NOW)) == 2  # signing certificate: 20 days; CRL: 7 days
    assert _open(store) == {("cert.expiry", "signing"): "30d", ("cert.expiry", "CRL"): "7d"}
    assert check(cfg, store, NOW + timedelta(hours=1)) == []  # the same: nothing new
    first = listing(store)
    assert mark_seen(store, [a["id"] for a in first], "ops-li") == 2 and unseen(store) == 0
    assert mark_seen(store, [a["id"] for a in first], "ops-li") == 0  # once is enough
    later = NOW + timedelta(days=6, hours=12)  # the CRL is within a day, the cert within 14
    assert len(check(cfg, store, later)) == 1
    assert _open(store) == {("cert.expiry", "signing"): "30d", ("cert.expiry", "CRL"): "1d"}
    assert unseen(store) == 1  # the crossing repeats the alert, unseen again
    crl = next(a for a in listing(store) if a["subject"].startswith("CRL"))
    assert "expires in 0.5 days" in crl["message"] and crl["seen_at"] is None
    gone = NOW + timedelta(days=8)
    check(cfg, store, gone)
    assert _open(store)[("cert.expiry", "CRL")] == "expired"
    cleared = [a for a in listing(store, everything=True) if a["cleared_at"] is not None]
    assert {a["level"] for a in cleared} == {"7d", "1d"}  # the history stays, cleared
    with store.read() as conn:
        seen = conn.execute(select(AuditEntry.actor).where(AuditEntry.action == "alert.seen"))
        assert set(seen.scalars()) == {"ops-li"}


@BACKENDS
def test_late_and_failing_sources_and_a_dead_upstream_alert_and_clear(
    store: Store, database_url: str, tmp_path: Path, pki: Pki
) -> None:
    cfg = _node(database_url, tmp_path, pki, scheduled=True)
    now = datetime.now(UTC)
    ledger.ensure(store, ["qingshan-inbox"], now - timedelta(hours=2))
    with store.write() as conn:
        ledger.set_state(conn, "qingshan-inbox", last_success=now - timedelta(minutes=20))
    check(cfg, store, now)
    assert _open(store).get(("source.late", "qingshan")) == "warning"
    check(cfg, store, now + timedelta(minutes=15))  # two periods without success
    assert _open(store).get(("source.failing", "qingshan")) == "critical"
    assert ("source.late", "qingshan") not in _open(store)
    with store.write() as conn:
        conn.execute(
            insert(Delivery).values(
                package_id="PKG-UP-1", peer="https://sheng.example/v1/packages",
                raw_sha256="0" * 64,
                status="dead", attempts=5, last_error="connection refused", created_at=now,
                updated_at=now,
            )
        )  # fmt: skip
        ledger.set_state(conn, "qingshan-inbox", last_success=now + timedelta(minutes=15))
    check(cfg, store, now + timedelta(minutes=16))
    got = _open(store)
    assert got[("upstream.unreachable", "https://sheng.example/v1/packages")] == "critical"
    assert got[("deliveries.dead", "upstream")] == "warning"
    assert not any(k[0].startswith("source.") for k in got)  # it succeeded again: cleared
    dead = next(a for a in listing(store) if a["kind"] == "deliveries.dead")
    assert "hub package redrive" in dead["message"]


class _Hook(BaseHTTPRequestHandler):
    got: ClassVar[list[dict[str, object]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@BACKENDS
def test_new_alerts_go_to_the_webhook_once_and_wait_while_it_is_down(
    store: Store, database_url: str, tmp_path: Path, pki: Pki
) -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{free.getsockname()[1]}/hook"
    check(_node(database_url, tmp_path, pki, webhook=closed), store, NOW)
    assert notify(_node(database_url, tmp_path, pki, webhook=closed), store) == 0  # down
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    cfg = _node(database_url, tmp_path, pki, webhook=f"http://127.0.0.1:{srv.server_address[1]}/h")
    _Hook.got = []
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        assert notify(cfg, store) == 2  # nothing was lost while it was down
        assert notify(cfg, store) == 0  # sent once
    finally:
        srv.shutdown()
        srv.server_close()
    assert {(m["kind"], m["level"]) for m in _Hook.got} == {
        ("cert.expiry", "30d"), ("cert.expiry", "7d")
    }  # fmt: skip
    assert all(m["message"] and m["node"] == cfg.node.name for m in _Hook.got)
    with store.read() as conn:
        assert all(conn.execute(select(Alert.notified)).scalars())


def test_a_webhook_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        AlertsSection(webhook="file:///etc/passwd")
