"""A test PKI for demos and tests (`hub keys init`): NOT for production keys.

Two CAs (ECDSA P-256 for RSA/ECDSA nodes, SM2 for SM2 nodes), one signing and one encryption
certificate per family bound to a platform code, and an empty CRL per CA.  Keys are written
unencrypted and named ``*.TEST-ONLY.key`` so nobody mistakes them for real ones.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from hub.package import crypto, pki
from hub.package.crypto import PrivateKey

FAMILIES = ("rsa", "ecdsa", "sm2")


@dataclass(frozen=True)
class Issued:
    key: PrivateKey
    cert: pki.Cert


def make_ca(family: str, now: datetime, name: str, serial: int = 1, days: int = 3650) -> Issued:
    key = crypto.generate(family)
    cert = pki.issue(
        subject_cn=name,
        platform_code=None,
        subject_key=key,
        issuer=None,
        issuer_key=key,
        serial=serial,
        not_before=now - timedelta(days=1),
        not_after=now + timedelta(days=days),
        ca=True,
    )
    return Issued(key, cert)


def make_node(
    ca: Issued,
    family: str,
    platform: str,
    now: datetime,
    serial: int,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    name: str | None = None,
    encrypt: bool = False,
) -> Issued:
    """A node certificate; ``encrypt``: its encryption certificate (key encipherment for RSA
    and SM2, key agreement for ECDSA keys), which [encryption] uses, not [signing]."""
    key = crypto.generate(family)
    usage = None
    if encrypt:
        usage = {"key_agreement"} if family == "ecdsa" else {"key_encipherment"}
    cert = pki.issue(
        subject_cn=name or f"hub node {platform} ({family}{', encryption' if encrypt else ''})",
        platform_code=platform,
        subject_key=key,
        issuer=ca.cert,
        issuer_key=ca.key,
        serial=serial,
        not_before=not_before or now - timedelta(days=1),
        not_after=not_after or now + timedelta(days=365),
        ca=False,
        usage=usage,
    )
    return Issued(key, cert)


def _serial() -> int:
    """A random positive serial of 63 bits (RFC 5280 allows up to 20 octets)."""
    return secrets.randbits(63) | 1


def init(directory: Path, platform: str, now: datetime) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, data: bytes) -> None:
        p = directory / name
        p.write_bytes(data)
        if name.endswith(".key"):
            p.chmod(0o600)
        written.append(p)

    # every test PKI has its own CA names and serials: a trust folder may hold several
    tag = secrets.token_hex(4)
    cas = {
        "ca": make_ca("ecdsa", now, f"hub TEST CA (ECDSA) {platform} {tag}", _serial()),
        "ca-sm2": make_ca("sm2", now, f"hub TEST CA (SM2) {platform} {tag}", _serial()),
    }
    for name, ca in cas.items():
        put(f"{name}.pem", ca.cert.pem())
        put(f"{name}.TEST-ONLY.key", ca.key.pem())
        crl = pki.make_crl(ca.cert, ca.key, [], now, now + timedelta(days=30))
        put(f"{name}.crl", crl.der)
    for fam in FAMILIES:
        node = make_node(cas["ca-sm2" if fam == "sm2" else "ca"], fam, platform, now, _serial())
        put(f"node-{fam}.pem", node.cert.pem())
        put(f"node-{fam}.TEST-ONLY.key", node.key.pem())
        enc = make_node(
            cas["ca-sm2" if fam == "sm2" else "ca"], fam, platform, now, _serial(), encrypt=True
        )
        put(f"node-{fam}-enc.pem", enc.cert.pem())
        put(f"node-{fam}-enc.TEST-ONLY.key", enc.key.pem())
    return written
