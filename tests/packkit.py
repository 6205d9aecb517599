"""Test kit for signed packages: a test PKI with every kind of bad signer, packages built
from generated records, archive surgery, and the attack matrix (shared by the package and
the receiving tests)."""

from __future__ import annotations

import io
import stat
import subprocess
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.config import NodeConfig, SigningSection, TrustSection
from hub.generate.batch import jsonl_bytes
from hub.generate.generator import Generator
from hub.package import archive, testpki
from hub.package.build import SigningIdentity, build, data_lines
from hub.package.pki import make_crl
from hub.package.trust import TrustStore
from hub.package.verify import Verified, verify_package

SENDER, RECEIVER, OTHER = "12350100MB0000000X", "12350000MB0000000P", "12350200MB0000000Y"
NOW = datetime.now(UTC).replace(microsecond=0)


def wall_clock() -> datetime:
    """The time to check what a live service signed by the wall clock: NOW is fixed when the
    suite starts, and a receipt signed ten minutes later would be "in the future" at NOW."""
    return datetime.now(UTC)


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


def node_id(n: testpki.Issued) -> SigningIdentity:
    return SigningIdentity(n.key, n.cert, [])


def make_pki(d: Path) -> Pki:
    """A CA with good, expired, revoked, other-platform and untrusted signers; files in d."""
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
    (d / "ca.pem").write_bytes(ca.cert.pem())
    (d / "node.pem").write_bytes(good.cert.pem())
    (d / "node.key").write_bytes(good.key.pem())
    (d / "ca.crl").write_bytes(crl.der)
    trust = TrustStore([ca.cert], [crl])
    ids = [node_id(n) for n in (good, expired, revoked, other, untrusted)]
    return Pki(ca, *ids, trust, d)


def one_node(ca: testpki.Issued, node: testpki.Issued, trust: TrustStore, d: Path) -> Pki:
    """A PKI whose every role is the one node (for the interop tests)."""
    n = node_id(node)
    return Pki(ca, n, n, n, n, n, trust, d)


def receiving_node(node: NodeConfig, pki: Pki) -> NodeConfig:
    """``node`` as the platform RECEIVER: trusting the test CA (with its CRL) and signing
    receipts with its own key, certified by that CA (files in ``pki.dir``)."""
    me = testpki.make_node(pki.ca, "ecdsa", RECEIVER, NOW, 41)
    key, cert = pki.dir / "receiver.TEST-ONLY.key", pki.dir / "receiver.pem"
    key.write_bytes(me.key.pem())
    cert.write_bytes(me.cert.pem())
    return node.model_copy(
        update={
            "trust": TrustSection(anchors=[pki.dir / "ca.pem"], crls=[pki.dir / "ca.crl"]),
            "signing": SigningSection(key=key, cert=cert),
        }
    )


def records(n: int = 2) -> dict[str, list[bytes]]:
    recs = Generator(seed=3).batch(n)
    return data_lines(io.BytesIO(jsonl_bytes(recs)), "gen")


def package(
    who: SigningIdentity,
    recs: dict[str, list[bytes]] | None = None,
    package_id: str = "PKG-0000000001",
) -> bytes:
    _, data = build(recs or records(), who, RECEIVER, package_id=package_id, now=NOW)
    return data


def verify(
    data: bytes, pki: Pki, seen: dict[str, str] | None = None, now: datetime | None = None
) -> Verified:
    return verify_package(
        data,
        "p.zip",
        pki.trust,
        now=now or NOW + timedelta(minutes=1),
        receiver=RECEIVER,
        seen=(seen or {}).get,
    )


def entries(data: bytes) -> list[tuple[str, bytes]]:
    return archive.read(data, "p.zip")


def raw_zip(
    entries: list[tuple[zipfile.ZipInfo | str, bytes]], method: int = zipfile.ZIP_STORED
) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names: that is the point
        with zipfile.ZipFile(buf, "w", method) as zf:
            for info, body in entries:
                zf.writestr(info, body)
    return buf.getvalue()


def replace(data: bytes, name: str, body: bytes | None) -> bytes:
    out = [(n, (body if n == name else b)) for n, b in entries(data)]
    return archive.write([(n, b) for n, b in out if b is not None])


def flip_in(data: bytes, name: str) -> bytes:
    ents = entries(data)
    return archive.write(
        [(n, (b[:10] + bytes([b[10] ^ 1]) + b[11:]) if n == name else b) for n, b in ents]
    )


def openssl_sign(pki: Pki, manifest: bytes, tmp: Path, md: str) -> bytes:
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


def attacks(pki: Pki, tmp: Path) -> dict[str, tuple[Callable[[], bytes], str]]:
    good = package(pki.good.__class__(pki.good.key, pki.good.cert, []))
    data_file = next(n for n, _ in entries(good) if n.startswith("data/"))
    manifest = dict(entries(good))["manifest.json"]
    link = zipfile.ZipInfo("data/link", archive.EPOCH)
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    return {
        "tampered data file": (lambda: flip_in(good, data_file), "file.digest"),
        "tampered manifest": (
            lambda: replace(
                good, "manifest.json", manifest.replace(RECEIVER.encode(), OTHER.encode())
            ),
            "signature.digest",
        ),
        "signature removed": (lambda: replace(good, "signature.p7s", None), "signature.missing"),
        "untrusted CA": (lambda: package(pki.untrusted), "cert.untrusted"),
        "expired certificate": (lambda: package(pki.expired), "cert.expired"),
        "revoked certificate": (lambda: package(pki.revoked), "cert.revoked"),
        "another platform's certificate": (
            lambda: build(
                records(),
                pki.other_platform,
                RECEIVER,
                package_id="PKG-0000000003",
                now=NOW,
                sender=SENDER,
            )[1],
            "cert.platform",
        ),
        "extra file": (
            lambda: archive.write([*entries(good), ("attachments/x.exe", b"MZ")]),
            "archive.extra",
        ),
        "missing file": (lambda: replace(good, data_file, None), "archive.missing"),
        "duplicate entry names": (
            lambda: raw_zip([*entries(good), (data_file, b"{}\n")]),
            "archive.duplicate",
        ),
        "../ entry": (lambda: raw_zip([*entries(good), ("../evil.sh", b"x")]), "archive.path"),
        "symlink entry": (
            lambda: raw_zip([*entries(good), (link, b"/etc/passwd")]),
            "archive.link",
        ),
        "zip bomb": (
            lambda: raw_zip([("manifest.json", b"\0" * 20_000_000)], zipfile.ZIP_DEFLATED),
            "archive.bomb",
        ),
        "same id, other bytes": (lambda: package(pki.good, records(1)), "package.replay"),
        "SHA-1 signature": (
            lambda: replace(good, "signature.p7s", openssl_sign(pki, manifest, tmp, "sha1")),
            "signature.algorithm",
        ),
        "compressed entries": (
            lambda: raw_zip(entries(good), zipfile.ZIP_DEFLATED),
            "archive.method",
        ),
        "not canonical (timestamp)": (
            lambda: raw_zip(
                [(zipfile.ZipInfo(n, (2020, 1, 1, 0, 0, 0)), b) for n, b in entries(good)]
            ),
            "archive.noncanonical",
        ),
        "wrong receiver": (
            lambda: build(records(), pki.good, OTHER, package_id="PKG-0000000002", now=NOW)[1],
            "package.receiver",
        ),
    }


def openssl_verifies(content: bytes, signature: bytes, ca: Path, tmp: Path) -> None:
    """Assert that OpenSSL alone verifies ``signature`` (detached CMS, DER) over
    ``content`` against the CA certificate ``ca``."""
    (tmp / "signed.bin").write_bytes(content)
    (tmp / "signature.p7s").write_bytes(signature)
    ok = subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-inform", "DER",
         "-in", str(tmp / "signature.p7s"), "-content", str(tmp / "signed.bin"),
         "-CAfile", str(ca), "-out", "/dev/null"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
