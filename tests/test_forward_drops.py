"""Receipts that come later: a city forwards to a province through a drop folder (files) or an
SFTP server (OpenSSH's sshd); the province takes the drop with `hub sync` and leaves its
signed receipt beside it; the city's next pass finds it, verifies it, keeps it on the
delivery and each record's verdict beside what was sent."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.config import NodeConfig, SigningSection, SourceSection, StoreSection, TrustSection
from hub.forward import forward
from hub.forward.deliver import D
from hub.forward.refresh import awaiting_receipts
from hub.generate.batch import jsonl_bytes
from hub.generate.generator import Generator
from hub.ingest.pipeline import ingest_stream
from hub.sections import ForwardSection
from hub.store.engine import Store, open_store
from hub.store.models import ForwardItem, table
from hub.sync import sync_source
from tests.packkit import RECEIVER, Pki, make_pki, receiving_node
from tests.sshd import Sshd, make_sshd

ITEM = table(ForwardItem)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def _city(tmp: Path, pki: Pki, signer: Pki, adapter: str, options: dict[str, Any]) -> NodeConfig:
    """A city that trusts ``pki`` (the province's receipts) and signs with ``signer``'s key."""
    return NodeConfig(
        store=StoreSection(data_dir=tmp / "city"),
        trust=TrustSection(anchors=[pki.dir / "ca.pem"], crls=[pki.dir / "ca.crl"]),
        signing=SigningSection(key=signer.dir / "node.key", cert=signer.dir / "node.pem"),
        forward={"province": ForwardSection(receiver=RECEIVER, adapter=adapter, options=options)},
    )


def _province(tmp: Path, pki: Pki, adapter: str, options: dict[str, Any]) -> NodeConfig:
    src = SourceSection(adapter=adapter, options={"format": "package", **options})
    node = NodeConfig(store=StoreSection(data_dir=tmp / "province"), sources={"city": src})
    return receiving_node(node, pki)


@pytest.fixture
def night() -> bytes:
    return jsonl_bytes(Generator(seed=21).batch(2))


def _items(store: Store) -> list[Any]:
    with store.read() as conn:
        return list(conn.execute(select(ITEM)).all())


def _round(city_cfg: NodeConfig, prov_cfg: NodeConfig, night: bytes) -> tuple[Store, Store]:
    """The city ingests a night and forwards it; nothing has answered yet.  Then the
    province takes the drop."""
    city, prov = open_store(city_cfg), open_store(prov_cfg)
    ingest_stream(city, io.BytesIO(night), "county-a", "night.jsonl")
    first = forward(city_cfg, city, "province")
    assert first.status == "done" and [s.status for s in first.packages] == ["delivered"]
    assert first.packages[0].verdicts == {} and first.answered == {}
    assert {i.outcome for i in _items(city)} == {None}  # nobody has said anything yet
    assert len(awaiting_receipts(city, "province")) == 1
    nothing_yet = forward(city_cfg, city, "province")  # the receipt is not there yet
    assert nothing_yet.answered == {} and nothing_yet.packages == []
    report = sync_source(prov_cfg, prov, "city")
    assert len(report.batches) == 1 and report.batches[0].receipt is not None
    return city, prov


def test_a_files_targets_receipt_is_found_at_the_next_pass(
    tmp_path: Path, pki: Pki, night: bytes
) -> None:
    drop = tmp_path / "drop"
    city_cfg = _city(tmp_path, pki, pki, "files", {"outbox": str(drop)})
    prov_cfg = _province(tmp_path, pki, "files", {"inbox": str(drop), "min_age_seconds": 0})
    city, prov = _round(city_cfg, prov_cfg, night)
    try:
        pid = awaiting_receipts(city, "province")[0][0]
        assert (drop / "receipts" / f"{pid}.receipt").is_file()  # taken, by its id
        second = forward(city_cfg, city, "province")
        items = _items(city)
        assert second.answered == {"accepted": len(items)}, second.answered
        assert {i.outcome for i in items} == {"accepted"}
        assert {i.upstream_version for i in items} == {1}
        with city.read() as conn:
            row = conn.execute(select(D).where(D.c.package_id == pid)).one()
        assert row.status == "delivered"
        assert row.receipt == (drop / "receipts" / f"{pid}.receipt").read_bytes()
        assert awaiting_receipts(city, "province") == []
        assert forward(city_cfg, city, "province").answered == {}  # read once
    finally:
        city.dispose()
        prov.dispose()


def test_a_refusal_left_in_the_drop_marks_the_package_refused(
    tmp_path: Path, pki: Pki, night: bytes
) -> None:
    """The province does not trust the city's signer: it refuses the package and leaves a
    signed refusal, named by the file and its digest; the city finds that too."""
    (tmp_path / "stranger").mkdir()
    stranger = make_pki(tmp_path / "stranger")
    drop = tmp_path / "drop"
    city_cfg = _city(tmp_path, pki, stranger, "files", {"outbox": str(drop)})
    prov_cfg = _province(tmp_path, pki, "files", {"inbox": str(drop), "min_age_seconds": 0})
    city, prov = _round(city_cfg, prov_cfg, night)
    try:
        left = sorted(p.name for p in (drop / "receipts").iterdir())
        assert len(left) == 1 and left[0].endswith(".receipt") and ".zip." in left[0]
        second = forward(city_cfg, city, "province")
        assert second.answered == {"refused": 1}
        with city.read() as conn:
            row = conn.execute(select(D)).one()
        assert row.status == "refused" and row.last_error.startswith("cert.untrusted: ")
        items = _items(city)
        assert {(i.outcome, i.rule) for i in items} == {("rejected", "cert.untrusted")}
    finally:
        city.dispose()
        prov.dispose()


def test_a_forged_or_foreign_receipt_is_not_believed(
    tmp_path: Path, pki: Pki, night: bytes
) -> None:
    """A file in the receipt's place that the province did not sign for this package: the
    delivery keeps waiting and nothing is recorded; a link is not followed."""
    drop = tmp_path / "drop"
    city_cfg = _city(tmp_path, pki, pki, "files", {"outbox": str(drop)})
    city = open_store(city_cfg)
    try:
        ingest_stream(city, io.BytesIO(night), "county-a", "night.jsonl")
        pid = forward(city_cfg, city, "province").packages[0].package_id
        (drop / "receipts").mkdir()
        (drop / "receipts" / f"{pid}.receipt").write_bytes(b"PK\x03\x04 not a receipt")
        assert forward(city_cfg, city, "province").answered == {}
        os.unlink(drop / "receipts" / f"{pid}.receipt")
        secret = tmp_path / "secret.txt"
        secret.write_text("not for the forwarder")
        os.symlink(secret, drop / "receipts" / f"{pid}.receipt")
        p = forward(city_cfg, city, "province")
        assert p.status == "done" and p.answered == {}
        assert {i.outcome for i in _items(city)} == {None}
        assert len(awaiting_receipts(city, "province")) == 1
    finally:
        city.dispose()


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sshd]:
    server = make_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


def test_an_sftp_targets_receipt_is_found_at_the_next_pass(
    tmp_path: Path, pki: Pki, night: bytes, sshd: Sshd
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    login = {
        "host": "127.0.0.1",
        "port": sshd.port,
        "username": sshd.user,
        "key": str(sshd.client_key),
        "known_hosts": str(sshd.known_hosts),
        "connect_timeout": 5,
    }
    city_cfg = _city(tmp_path, pki, pki, "sftp", {**login, "upload_dir": str(drop)})
    prov_cfg = _province(
        tmp_path, pki, "sftp", {**login, "remote_dir": str(drop), "min_age_seconds": 0}
    )
    city, prov = _round(city_cfg, prov_cfg, night)
    try:
        second = forward(city_cfg, city, "province")
        items = _items(city)
        assert second.answered == {"accepted": len(items)}
        assert {i.outcome for i in items} == {"accepted"}
        assert awaiting_receipts(city, "province") == []
    finally:
        city.dispose()
        prov.dispose()


def test_the_pass_says_what_came_since(capsys: pytest.CaptureFixture[str]) -> None:
    from hub.cli.forward_cmd import _print_pass
    from hub.forward import Pass

    _print_pass(Pass("province", "done", answered={"accepted": 3, "rejected": 1}), "text")
    out = capsys.readouterr().out
    assert "receipts that came since: accepted 3, rejected 1" in out, out
    _print_pass(Pass("province", "done"), "text")
    assert "came since" not in capsys.readouterr().out
