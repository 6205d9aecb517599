"""Signed packages: the attack matrix, a byte-flip sweep, OpenSSL and SM2 interop, proofs."""

from __future__ import annotations

import io
import stat
import subprocess
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from hub.errors import InputError
from hub.generate.batch import jsonl_bytes
from hub.generate.generator import Generator
from hub.package import archive, testpki
from hub.package.build import SigningIdentity, build, data_lines
from hub.package.pki import make_crl
from hub.package.proof import check_proof, make_proof
from hub.package.trust import TrustStore
from hub.package.verify import verify_package

SENDER, RECEIVER, OTHER = "12350100MB0000000X", "12350000MB0000000P", "12350200MB0000000Y"
NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass
class Pki:
    ca: testpki.Issued
    good: SigningIdentity
    expired: SigningIdentity
    revoked: SigningIdentity
    other_platform: SigningIdentity
    untrusted: SigningIdentity
    trust: TrustStore
    dir: Path


def _id(n: testpki.Issued) -> SigningIdentity:
    return SigningIdentity(n.key, n.cert, [])


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    ca = testpki.make_ca("ecdsa", NOW, "test CA")
    rogue = testpki.make_ca("ecdsa", NOW, "test CA")  # same name, other key: not trusted
    good = testpki.make_node(ca, "ecdsa", SENDER, NOW, 10)
    expired = testpki.make_node(
        ca,
        "rsa",
        SENDER,
        NOW,
        11,
        not_before=NOW - timedelta(days=400),
        not_after=NOW - timedelta(days=1),
    )
    revoked = testpki.make_node(ca, "ecdsa", SENDER, NOW, 12)
    other = testpki.make_node(ca, "ecdsa", OTHER, NOW, 13)
    untrusted = testpki.make_node(rogue, "ecdsa", SENDER, NOW, 10)
    crl = make_crl(
        ca.cert,
        ca.key,
        [(12, NOW - timedelta(hours=1))],
        NOW - timedelta(hours=2),
        NOW + timedelta(days=7),
    )
    d = tmp_path_factory.mktemp("pki")
    (d / "ca.pem").write_bytes(ca.cert.pem())
    (d / "node.pem").write_bytes(good.cert.pem())
    (d / "node.key").write_bytes(good.key.pem())
    trust = TrustStore([ca.cert], [crl])
    return Pki(ca, _id(good), _id(expired), _id(revoked), _id(other), _id(untrusted), trust, d)


def _one_node(ca: testpki.Issued, node: testpki.Issued, trust: TrustStore, d: Path) -> Pki:
    """A PKI whose every role is the one node (for the interop tests)."""
    n = _id(node)
    return Pki(ca, n, n, n, n, n, trust, d)


def _records(n: int = 2) -> dict[str, list[bytes]]:
    recs = Generator(seed=3).batch(n)
    return data_lines(io.BytesIO(jsonl_bytes(recs)), "gen")


def _package(
    who: SigningIdentity,
    records: dict[str, list[bytes]] | None = None,
    package_id: str = "PKG-0000000001",
) -> bytes:
    _, data = build(records or _records(), who, RECEIVER, package_id=package_id, now=NOW)
    return data


def _verify(data: bytes, pki: Pki, seen: dict[str, str] | None = None) -> object:
    return verify_package(
        data,
        "p.zip",
        pki.trust,
        now=NOW + timedelta(minutes=1),
        receiver=RECEIVER,
        seen=(seen or {}).get,
    )


def _entries(data: bytes) -> list[tuple[str, bytes]]:
    return archive.read(data, "p.zip")


def _raw_zip(
    entries: list[tuple[zipfile.ZipInfo | str, bytes]], method: int = zipfile.ZIP_STORED
) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names: that is the point
        with zipfile.ZipFile(buf, "w", method) as zf:
            for info, body in entries:
                zf.writestr(info, body)
    return buf.getvalue()


def _replace(data: bytes, name: str, body: bytes | None) -> bytes:
    out = [(n, (body if n == name else b)) for n, b in _entries(data)]
    return archive.write([(n, b) for n, b in out if b is not None])


def _flip_in(data: bytes, name: str) -> bytes:
    ents = _entries(data)
    return archive.write(
        [(n, (b[:10] + bytes([b[10] ^ 1]) + b[11:]) if n == name else b) for n, b in ents]
    )


def _openssl_sign(pki: Pki, manifest: bytes, tmp: Path, md: str) -> bytes:
    (tmp / "m.json").write_bytes(manifest)
    subprocess.run(
        [
            "openssl",
            "cms",
            "-sign",
            "-binary",
            "-md",
            md,
            "-in",
            str(tmp / "m.json"),
            "-signer",
            str(pki.dir / "node.pem"),
            "-inkey",
            str(pki.dir / "node.key"),
            "-outform",
            "DER",
            "-out",
            str(tmp / "s.p7s"),
        ],
        check=True,
    )
    return (tmp / "s.p7s").read_bytes()


def _attacks(pki: Pki, tmp: Path) -> dict[str, tuple[Callable[[], bytes], str]]:
    good = _package(pki.good.__class__(pki.good.key, pki.good.cert, []))
    data_file = next(n for n, _ in _entries(good) if n.startswith("data/"))
    manifest = dict(_entries(good))["manifest.json"]
    link = zipfile.ZipInfo("data/link", archive.EPOCH)
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return {
        "tampered data file": (lambda: _flip_in(good, data_file), "file.digest"),
        "tampered manifest": (
            lambda: _replace(
                good, "manifest.json", manifest.replace(RECEIVER.encode(), OTHER.encode())
            ),
            "signature.digest",
        ),
        "signature removed": (lambda: _replace(good, "signature.p7s", None), "signature.missing"),
        "untrusted CA": (lambda: _package(pki.untrusted), "cert.untrusted"),
        "expired certificate": (lambda: _package(pki.expired), "cert.expired"),
        "revoked certificate": (lambda: _package(pki.revoked), "cert.revoked"),
        "another platform's certificate": (
            lambda: build(
                _records(),
                pki.other_platform,
                RECEIVER,
                package_id="PKG-0000000003",
                now=NOW,
                sender=SENDER,
            )[1],
            "cert.platform",
        ),
        "extra file": (
            lambda: archive.write([*_entries(good), ("attachments/x.exe", b"MZ")]),
            "archive.extra",
        ),
        "missing file": (lambda: _replace(good, data_file, None), "archive.missing"),
        "duplicate entry names": (
            lambda: _raw_zip([*_entries(good), (data_file, b"{}\n")]),
            "archive.duplicate",
        ),
        "../ entry": (lambda: _raw_zip([*_entries(good), ("../evil.sh", b"x")]), "archive.path"),
        "symlink entry": (
            lambda: _raw_zip([*_entries(good), (link, b"/etc/passwd")]),
            "archive.link",
        ),
        "zip bomb": (
            lambda: _raw_zip([("manifest.json", b"\0" * 20_000_000)], zipfile.ZIP_DEFLATED),
            "archive.bomb",
        ),
        "same id, other bytes": (lambda: _package(pki.good, _records(1)), "package.replay"),
        "SHA-1 signature": (
            lambda: _replace(good, "signature.p7s", _openssl_sign(pki, manifest, tmp, "sha1")),
            "signature.algorithm",
        ),
        "compressed entries": (
            lambda: _raw_zip(_entries(good), zipfile.ZIP_DEFLATED),
            "archive.method",
        ),
        "not canonical (timestamp)": (
            lambda: _raw_zip(
                [(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), b) for n, b in _entries(good)]
            ),
            "archive.noncanonical",
        ),
        "wrong receiver": (
            lambda: build(_records(), pki.good, OTHER, package_id="PKG-0000000002", now=NOW)[1],
            "package.receiver",
        ),
    }


def test_attack_matrix_every_case_refused_with_its_own_reason(pki: Pki, tmp_path: Path) -> None:
    original = _package(pki.good)
    seen = {"PKG-0000000001": __import__("hashlib").sha256(original).hexdigest()}
    got: dict[str, str] = {}
    for case, (make, want) in _attacks(pki, tmp_path).items():
        with pytest.raises(InputError) as info:
            _verify(make(), pki, seen)
        got[case] = info.value.code
        assert info.value.code == want, (case, info.value.reason)
    assert len(got) >= 16 and len(set(got.values())) == len(got)  # one reason per case
    # the replayed package itself: answered DUPLICATE, not refused
    v = _verify(original, pki, seen)
    assert v.duplicate is True
    assert _verify(original, pki).duplicate is False


def test_byte_flip_sweep_rejects_every_byte(pki: Pki) -> None:
    data = _package(pki.good, {"PROJECT": _records(1)["PROJECT"][:1]})
    reasons: Counter[str] = Counter()
    for i in range(len(data)):
        flipped = data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]
        try:
            _verify(flipped, pki)
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
    files = dict(_entries(_package(_id(node))))
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
    p = _one_node(ca, node, TrustStore([ca.cert], [], require_crl=False), tmp_path)
    good = _package(_id(node))
    manifest = dict(_entries(good))["manifest.json"]
    signed = _replace(good, "signature.p7s", _openssl_sign(p, manifest, tmp_path, "sha256"))
    v = _verify(signed, p)
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
    p = _one_node(
        ca,
        node,
        TrustStore([ca.cert], [make_crl(ca.cert, ca.key, [], NOW, NOW + timedelta(days=1))]),
        tmp_path,
    )
    v = _verify(_package(_id(node)), p)
    assert v.manifest.digest == "sm3"


def test_merkle_proof_verifies_alone_and_fails_for_a_changed_record(pki: Pki) -> None:
    files = dict(_entries(_package(pki.good)))
    n = sum(1 for f in files if f.startswith("data/"))
    assert n > 1
    for record in (1, 2, 5):
        proof = orjson.loads(orjson.dumps(make_proof(files, record, "p.zip")))
        assert check_proof(proof).signer.platform_code == SENDER
        changed = {**proof, "line": proof["line"].replace('"record"', '"record" ', 1)}
        with pytest.raises(InputError) as info:
            check_proof(changed)
        assert info.value.code == "proof.mismatch"
