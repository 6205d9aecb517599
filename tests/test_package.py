"""Signed packages: the attack matrix, a byte-flip sweep, OpenSSL and SM2 interop, proofs."""

from __future__ import annotations

import hashlib
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path

import orjson
import pytest

from hub.errors import InputError
from hub.package import testpki
from hub.package.pki import make_crl
from hub.package.proof import check_proof, make_proof
from hub.package.trust import TrustStore
from tests.packkit import (
    NOW,
    SENDER,
    Pki,
    attacks,
    entries,
    make_pki,
    node_id,
    one_node,
    openssl_sign,
    package,
    records,
    replace,
    verify,
    wall_clock,
)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_attack_matrix_every_case_refused_with_its_own_reason(pki: Pki, tmp_path: Path) -> None:
    original = package(pki.good)
    seen = {"PKG-0000000001": hashlib.sha256(original).hexdigest()}
    got: dict[str, str] = {}
    for case, (make, want) in attacks(pki, tmp_path).items():
        with pytest.raises(InputError) as info:
            verify(make(), pki, seen)
        got[case] = info.value.code
        assert info.value.code == want, (case, info.value.reason)
    assert len(got) >= 16 and len(set(got.values())) == len(got)  # one reason per case
    # the replayed package itself: answered DUPLICATE, not refused
    v = verify(original, pki, seen)
    assert v.duplicate is True
    assert verify(original, pki).duplicate is False


def test_byte_flip_sweep_rejects_every_byte(pki: Pki) -> None:
    data = package(pki.good, {"PROJECT": records(1)["PROJECT"][:1]})
    reasons: Counter[str] = Counter()
    for i in range(len(data)):
        flipped = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]
        try:
            verify(flipped, pki)
        except InputError as exc:
            reasons[exc.code] += 1
            continue
        pytest.fail(f"byte {i} of {len(data)} flipped and the package still verified")
    print(f"\nbyte-flip sweep over {len(data)} bytes, rejected by reason:")
    for code, n in reasons.most_common():
        print(f"  {code:<24}{n:>6}")
    assert sum(reasons.values()) == len(data)


OPENSSL_VERIFY = "openssl cms -verify -binary -inform DER -in signature.p7s -content manifest.json"


def _openssl_cms_verify(cwd: Path) -> subprocess.CompletedProcess[str]:
    cmd = [*OPENSSL_VERIFY.split(), "-CAfile", "ca.pem", "-out", "/dev/null"]
    return subprocess.run(cmd, cwd=cwd, check=False, capture_output=True, text=True)


@pytest.mark.parametrize("family", ["rsa", "ecdsa"])
def test_openssl_verifies_a_hub_package(family: str, tmp_path: Path) -> None:
    ca = testpki.make_ca("ecdsa", NOW, "interop CA")
    node = testpki.make_node(ca, family, SENDER, NOW, 5)
    files = dict(entries(package(node_id(node))))
    (tmp_path / "manifest.json").write_bytes(files["manifest.json"])
    (tmp_path / "signature.p7s").write_bytes(files["signature.p7s"])
    (tmp_path / "ca.pem").write_bytes(ca.cert.pem())
    ok = _openssl_cms_verify(tmp_path)
    assert ok.returncode == 0 and "Verification successful" in ok.stderr, ok.stderr
    (tmp_path / "manifest.json").write_bytes(files["manifest.json"] + b" ")
    assert _openssl_cms_verify(tmp_path).returncode != 0


@pytest.mark.parametrize("family", ["rsa", "ecdsa"])
def test_hub_verifies_a_manifest_signed_by_openssl(family: str, tmp_path: Path) -> None:
    ca = testpki.make_ca("ecdsa", NOW, "interop CA")
    node = testpki.make_node(ca, family, SENDER, NOW, 6)
    (tmp_path / "node.pem").write_bytes(node.cert.pem())
    (tmp_path / "node.key").write_bytes(node.key.pem())
    p = one_node(ca, node, TrustStore([ca.cert], [], require_crl=False), tmp_path)
    good = package(node_id(node))
    manifest = dict(entries(good))["manifest.json"]
    signed = replace(good, "signature.p7s", openssl_sign(p, manifest, tmp_path, "sha256"))
    v = verify(signed, p, now=wall_clock())  # openssl stamps its signing time by the wall clock
    assert v.signed.signer.platform_code == SENDER


def test_sm2_interop_with_openssl_both_ways(tmp_path: Path) -> None:
    ca = testpki.make_ca("sm2", NOW, "SM2 CA")
    node = testpki.make_node(ca, "sm2", SENDER, NOW, 7)
    msg = tmp_path / "m.json"
    msg.write_bytes(b'{"package_id": "PKG-SM2"}')
    (tmp_path / "pub.pem").write_bytes(
        __import__("asn1crypto.pem", fromlist=["armor"]).armor("PUBLIC KEY", node.key.public_der())
    )
    (tmp_path / "key.pem").write_bytes(node.key.pem())
    (tmp_path / "hub.sig").write_bytes(node.key.sign(msg.read_bytes()))
    common = ["-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678", "-in", "m.json"]
    ok = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "pub.pem",
            "-sigfile",
            "hub.sig",
            *common,
        ],
        cwd=tmp_path,
        check=False,
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "Verified Successfully" in ok.stdout, ok.stderr
    subprocess.run(
        ["openssl", "pkeyutl", "-sign", "-inkey", "key.pem", "-out", "ossl.sig", *common],
        cwd=tmp_path,
        check=True,
    )
    from hub.package import crypto

    crypto.verify(
        node.key.public_der(),
        crypto.SM2_WITH_SM3,
        None,
        (tmp_path / "ossl.sig").read_bytes(),
        msg.read_bytes(),
    )
    with pytest.raises(crypto.BadSignature):
        crypto.verify(
            node.key.public_der(),
            crypto.SM2_WITH_SM3,
            None,
            (tmp_path / "ossl.sig").read_bytes(),
            msg.read_bytes() + b"x",
        )
    # and a whole SM2 package (SM3 digests throughout) verifies with the hub
    p = one_node(
        ca,
        node,
        TrustStore([ca.cert], [make_crl(ca.cert, ca.key, [], NOW, NOW + timedelta(days=1))]),
        tmp_path,
    )
    v = verify(package(node_id(node)), p)
    assert v.manifest.digest == "sm3"


def test_merkle_proof_verifies_alone_and_fails_for_a_changed_record(pki: Pki) -> None:
    files = dict(entries(package(pki.good)))
    n = sum(1 for f in files if f.startswith("data/"))
    assert n > 1
    for record in (1, 2, 5):
        proof = orjson.loads(orjson.dumps(make_proof(files, record, "p.zip")))
        assert check_proof(proof).signer.platform_code == SENDER
        changed = {**proof, "line": proof["line"].replace('"record"', '"record" ', 1)}
        with pytest.raises(InputError) as info:
            check_proof(changed)
        assert info.value.code == "proof.mismatch"


@pytest.mark.parametrize("family", ["rsa", "ecdsa", "sm2"])
def test_every_flipped_byte_of_the_signature_and_manifest_is_refused(
    family: str, tmp_path: Path
) -> None:
    """Each byte of signature.p7s and of manifest.json flipped in turn, the archive rebuilt
    around it: every one is refused with a reason code, none verifies, none crashes."""
    ca = testpki.make_ca("sm2" if family == "sm2" else "ecdsa", NOW, f"sweep CA {family}")
    node = testpki.make_node(ca, family, SENDER, NOW, 77)
    crl = make_crl(ca.cert, ca.key, [], NOW - timedelta(hours=1), NOW + timedelta(days=7))
    p = one_node(ca, node, TrustStore([ca.cert], [crl]), tmp_path)
    good = package(node_id(node), {"PROJECT": records(1)["PROJECT"][:1]})
    assert verify(good, p).signed.signer.platform_code == SENDER
    files = dict(entries(good))
    reasons: Counter[str] = Counter()
    accepted: list[str] = []
    for name in ("signature.p7s", "manifest.json"):
        body = files[name]
        for i in range(len(body)):
            for mask in (0x01, 0x80):
                flipped = body[:i] + bytes([body[i] ^ mask]) + body[i + 1 :]
                try:
                    verify(replace(good, name, flipped), p)
                except InputError as exc:
                    reasons[exc.code] += 1
                    continue
                accepted.append(f"{name} byte {i} ^ {mask:#04x}")
    print(f"\n{family}: {sum(reasons.values())} flips refused by reason: {dict(reasons)}")
    assert accepted == [], f"{len(accepted)} flips verified: {accepted[:20]}"


def test_a_certificate_off_the_signers_path_is_refused(pki: Pki) -> None:
    """An extra certificate in signature.p7s is bytes no check reads: refused, like any."""
    stray = package(pki.good.__class__(pki.good.key, pki.good.cert, [pki.other_platform.cert]))
    with pytest.raises(InputError) as info:
        verify(stray, pki)
    assert info.value.code == "cert.extra" and "not on the signer's path" in info.value.reason


def test_a_data_file_with_an_empty_line_is_refused_not_answered_short(pki: Pki) -> None:
    """Nine lines counted by the manifest, one of them empty: every line the manifest counts
    gets a verdict, or the package is refused; never eight verdicts for nine lines."""
    recs = records(1)
    name = next(iter(recs))
    recs[name] = [recs[name][0], b"", *recs[name][1:]]
    with pytest.raises(InputError) as info:
        verify(package(pki.good, recs), pki)
    assert info.value.code == "record.empty" and "line 2 is empty" in info.value.reason
