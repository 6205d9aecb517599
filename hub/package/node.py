"""This node's keys as configured: the trust store for what it receives and the identity it
signs with (packages it sends, receipts it returns)."""

from __future__ import annotations

from datetime import timedelta

from hub.config import NodeConfig, resolve_secret
from hub.errors import ConfigError
from hub.package import crypto
from hub.package.build import SigningIdentity
from hub.package.pki import load_certs
from hub.package.trust import TrustStore


def trust_store(cfg: NodeConfig) -> TrustStore:
    t = cfg.trust
    return TrustStore.from_files(
        t.anchors,
        t.crls,
        require_crl=t.require_crl,
        max_signature_age=timedelta(days=t.max_signature_age_days),
    )


def identity(cfg: NodeConfig) -> SigningIdentity:
    s = cfg.signing
    if s.key is None:
        raise ConfigError("[signing].key is not set: this node cannot sign packages")
    pw = resolve_secret(s.password, "[signing].password").encode() if s.password else None
    try:
        key = crypto.load_private_key(s.key.read_bytes(), pw)
        certs = load_certs(s.cert.read_bytes()) if s.cert else []
        chain = [c for p in s.chain for c in load_certs(p.read_bytes())]
    except OSError as exc:
        raise ConfigError(f"[signing]: {exc}") from exc
    if not certs:
        raise ConfigError("[signing].cert is not set: the signer's certificate is needed")
    if certs[0].spki != key.public_der():
        raise ConfigError(f"[signing].cert {str(s.cert)!r} does not belong to [signing].key")
    return SigningIdentity(key, certs[0], chain + certs[1:])
