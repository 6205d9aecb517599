"""Receiving packages into a real store: per-record signed receipts, replay, refusals that
store nothing, resuming after a crash, and receipts that OpenSSL verifies."""

from __future__ import annotations

import io
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from hub.config import IngestSection, NodeConfig, StoreSection
from hub.errors import InputError
from hub.generate.batch import jsonl_bytes
from hub.generate.generator import Generator
from hub.package import archive, testpki
from hub.package.build import SigningIdentity, build, data_lines
from hub.package.receipt import RECEIPT, Receipt, sign, verify
from hub.package.receive import Received, receive_package
from hub.store import audit
from hub.store.engine import Store, open_store
from hub.store.models import AuditEntry, Package, RawBatch, RecordVersion, SyncRun
from tests.conftest import BACKENDS
from tests.packkit import NOW, RECEIVER, SENDER, Pki, attacks, make_pki, node_id

LATER = NOW + timedelta(minutes=1)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def me(pki: Pki) -> SigningIdentity:
    """The receiving node (platform RECEIVER), certified by the same test CA."""
    return node_id(testpki.make_node(pki.ca, "ecdsa", RECEIVER, NOW, 40))


def _lines(n: int, seed: int, invalid: float = 0.0) -> dict[str, list[bytes]]:
    g = Generator(seed=seed)
    recs = g.batch(n)
    if invalid:
        g.inject_defects(recs, invalid)
    return data_lines(io.BytesIO(jsonl_bytes(recs)), "gen")


def _receive(store: Store, data: bytes, pki: Pki, me: SigningIdentity, **kw: Any) -> Received:
    return receive_package(store, data, "p.zip", pki.trust, me, now=LATER, **kw)


def _count(store: Store, model: Any) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _check_receipt(got: Received, pki: Pki) -> Receipt:
    r, signed = verify(got.receipt_bytes, "r", pki.trust, now=LATER, issuer=RECEIVER)
    assert signed.signer.platform_code == RECEIVER
    assert r == got.receipt
    return r


@BACKENDS
def test_a_package_is_stored_with_its_signer_and_answered_per_record(
    store: Store, pki: Pki, me: SigningIdentity
) -> None:
    lines = _lines(4, seed=5, invalid=0.08)
    m, data = build(lines, pki.good, RECEIVER, package_id="PKG-REC-0001", now=NOW)
    got = _receive(store, data, pki, me)
    assert got.status == "processed"
    r = _check_receipt(got, pki)
    total = sum(len(v) for v in lines.values())
    assert len(r.records) == total == got.counts.records_in and got.counts.conserved
    assert r.counts == {
        k: v
        for k, v in got.counts.as_dict().items()
        if v and k in ("accepted", "rejected", "quarantined", "held", "duplicate")
    }
    assert r.counts["accepted"] > 0 and r.counts["rejected"] > 0  # defects were planted
    assert r.manifest_hash and r.manifest_hash.startswith("sha256:")
    assert (r.package_id, r.sender, r.issuer) == ("PKG-REC-0001", SENDER, RECEIVER)
    # every record of the package has its line in the receipt, in the manifest's order
    want = [(f.path, i + 1) for f in m.files for i in range(len(f.records))]
    assert [(v.file, v.line) for v in r.records] == want
    for v in r.records:
        if v.outcome == "accepted":
            assert v.version == 1 and v.key
        if v.outcome == "rejected":
            assert v.rule and v.field and v.message
    # the versions name the package row and the signer
    with store.read() as conn:
        rows = conn.execute(select(RecordVersion.package_id, RecordVersion.signer)).all()
        pkg = conn.execute(select(Package)).one()
    assert len(rows) == r.counts["accepted"]
    assert {row.package_id for row in rows} == {pkg.id}
    assert all("12350100MB0000000X" in (row.signer or "") for row in rows)
    assert (pkg.status, pkg.package_id, pkg.receipt) == ("done", "PKG-REC-0001", got.receipt_bytes)
    assert store.raw.has(r.package_sha256)  # the archive is kept as evidence


@BACKENDS
def test_a_replayed_package_gets_the_original_receipt_and_changes_nothing(
    store: Store, pki: Pki, me: SigningIdentity
) -> None:
    _, data = build(_lines(2, seed=6), pki.good, RECEIVER, package_id="PKG-REC-0002", now=NOW)
    first = _receive(store, data, pki, me)
    before = (_count(store, RecordVersion), _count(store, SyncRun), _count(store, Package))
    again = _receive(store, data, pki, me)
    assert again.status == "duplicate" and again.receipt_bytes == first.receipt_bytes
    assert (_count(store, RecordVersion), _count(store, SyncRun), _count(store, Package)) == before
    # the same id with other bytes is refused, and that stores nothing either
    _, other = build(_lines(1, seed=9), pki.good, RECEIVER, package_id="PKG-REC-0002", now=NOW)
    refused = _receive(store, other, pki, me)
    assert refused.status == "refused" and refused.receipt.refusal is not None
    assert refused.receipt.refusal.code == "package.replay"
    assert (_count(store, RecordVersion), _count(store, SyncRun), _count(store, Package)) == before


@BACKENDS
def test_every_attack_is_refused_with_a_signed_receipt_and_nothing_stored(
    store: Store, pki: Pki, me: SigningIdentity, tmp_path: Path
) -> None:
    got: dict[str, str] = {}
    cases = attacks(pki, tmp_path)
    # the replay case needs the original in the store first: a store of its own for that one
    cases.pop("same id, other bytes")
    for case, (make, want) in cases.items():
        res = _receive(store, make(), pki, me)
        r = _check_receipt(res, pki)
        assert res.status == "refused" and r.refusal is not None, case
        assert r.refusal.code == want, (case, r.refusal.message)
        assert r.records == [] and r.package_id is None
        got[case] = r.refusal.code
    assert len(set(got.values())) == len(got) >= 16
    for model in (Package, RecordVersion, SyncRun, RawBatch):
        assert _count(store, model) == 0, model.__tablename__
    assert not store.raw.root.exists() or not any(store.raw.root.rglob("*"))
    with store.read() as conn:
        actions = conn.execute(select(AuditEntry.action)).scalars().all()
        assert actions == ["package.refused"] * len(cases)
        assert audit.verify(conn).broken_at is None


@BACKENDS
def test_a_crash_mid_package_resumes_on_the_next_delivery(
    store: Store, pki: Pki, me: SigningIdentity
) -> None:
    lines = _lines(3, seed=11)
    _, data = build(lines, pki.good, RECEIVER, package_id="PKG-REC-0003", now=NOW)
    total = sum(len(v) for v in lines.values())
    seen = 0

    def crash(n: int) -> None:
        nonlocal seen
        seen += n
        if seen > total // 2:
            raise KeyboardInterrupt  # the process dies part-way through

    small = IngestSection(chunk_records=40)  # the package's records commit 40 at a time
    with pytest.raises(KeyboardInterrupt):
        _receive(store, data, pki, me, on_progress=crash, settings=small)
    with store.read() as conn:
        assert conn.execute(select(Package.status)).scalar_one() == "receiving"
    stored = _count(store, RecordVersion)
    assert 0 < stored < total
    got = _receive(store, data, pki, me)
    assert got.status == "processed"
    r = _check_receipt(got, pki)
    assert r.counts == {"accepted": total}  # what the first attempt stored is reported too
    assert _count(store, RecordVersion) == total and _count(store, Package) == 1
    assert sorted(v.version or 0 for v in r.records) == [1] * total


def test_a_tampered_or_misdirected_receipt_is_refused(
    tmp_path: Path, pki: Pki, me: SigningIdentity
) -> None:
    refused = _refused_receipt(pki, me, tmp_path)
    files = dict(archive.read(refused, "r"))
    body = files[RECEIPT].replace(b'"refused"', b'"processed"')
    forged = archive.write([(RECEIPT, body), ("signature.p7s", files["signature.p7s"])])
    with pytest.raises(InputError) as info:
        verify(forged, "r", pki.trust, now=LATER)
    assert info.value.code == "signature.digest"
    with pytest.raises(InputError) as info:
        verify(refused, "r", pki.trust, now=LATER, issuer=SENDER)
    assert info.value.code == "receipt.issuer"
    with pytest.raises(InputError) as info:
        verify(refused, "r", pki.trust, now=LATER, package_id="PKG-OTHER-01")
    assert info.value.code == "receipt.package"
    # a receipt signed by a node whose certificate names another platform than the issuer
    r = Receipt.model_validate({**_receipt_json(refused), "issuer": "12350200MB0000000Y"})
    with pytest.raises(InputError) as info:
        verify(sign(r, me), "r", pki.trust, now=LATER)
    assert info.value.code == "cert.platform"


def _refused_receipt(pki: Pki, me: SigningIdentity, tmp_path: Path) -> bytes:
    """A refused receipt, made without a store (the refusal path writes only an audit line)."""
    s = open_store(NodeConfig(store=StoreSection(data_dir=tmp_path / "d")))
    try:
        return _receive(s, b"not a zip", pki, me).receipt_bytes
    finally:
        s.dispose()


def _receipt_json(data: bytes) -> dict[str, Any]:
    return dict(orjson.loads(dict(archive.read(data, "r"))[RECEIPT]))


def test_openssl_verifies_a_receipt(
    tmp_path: Path, pki: Pki, me: SigningIdentity, store: Store
) -> None:
    _, data = build(_lines(1, seed=12), pki.good, RECEIVER, package_id="PKG-REC-0004", now=NOW)
    got = _receive(store, data, pki, me)
    with zipfile.ZipFile(io.BytesIO(got.receipt_bytes)) as zf:
        zf.extractall(tmp_path)
    (tmp_path / "ca.pem").write_bytes(pki.ca.cert.pem())
    cmd = "openssl cms -verify -binary -inform DER -in signature.p7s -content receipt.json"
    ok = subprocess.run(
        [*cmd.split(), "-CAfile", "ca.pem", "-out", "/dev/null"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0 and "Verification successful" in ok.stderr, ok.stderr
