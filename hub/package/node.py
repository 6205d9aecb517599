"""This node's keys as configured: the trust store for what it receives, the identity it
signs with (packages it sends, receipts it returns), the keys that open packages encrypted to
it, and the certificates it encrypts to."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from hub.config import NodeConfig, resolve_secret
from hub.errors import ConfigError
from hub.package import crypto
from hub.package.build import SigningIdentity
from hub.package.envelope import Recipient, Unsealer
from hub.package.pki import Cert, load_certs
from hub.package.recipients import EnvelopeError, family_of
from hub.package.sealstream import AtRest
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


def unsealer(cfg: NodeConfig) -> Unsealer:
    """The keys that open packages encrypted to this node: [encryption] cert and key, then
    each retired pair (kept so packages sealed before a rotation still open)."""
    e = cfg.encryption
    if e.cert is None or e.key is None:
        return Unsealer()
    pw = resolve_secret(e.password, "[encryption].password").encode() if e.password else None
    pairs = [(e.cert, e.key), *((r.cert, r.key) for r in e.retired)]
    keys = []
    for cert_path, key_path in pairs:
        try:
            key = crypto.load_private_key(key_path.read_bytes(), pw)
            cert = load_certs(cert_path.read_bytes())[0]
        except (OSError, IndexError, ValueError) as exc:
            raise ConfigError(f"[encryption]: {cert_path} / {key_path}: {exc}") from exc
        if cert.spki != key.public_der():
            raise ConfigError(f"[encryption]: {str(cert_path)!r} does not belong to {key_path}")
        keys.append(Recipient(cert, key))
    return Unsealer(tuple(keys), e.require)


def at_rest(cfg: NodeConfig) -> AtRest | None:
    """The raw store's sealing: new objects sealed to [encryption].cert when ``at_rest`` is
    on; sealed objects opened with any of the node's keys (also once it is turned off)."""
    keys = unsealer(cfg).keys
    if not keys:
        return None
    return AtRest((keys[0].cert,) if cfg.encryption.at_rest else (), keys)


def recipients(paths: tuple[Path, ...], where: str) -> list[Cert]:
    """The certificates in ``paths`` (``where``: the setting, for errors), each checked to be
    one that can be encrypted to."""
    certs: list[Cert] = []
    for p in paths:
        try:
            found = load_certs(p.read_bytes())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{where}: {p}: {exc}") from exc
        if not found:
            raise ConfigError(f"{where}: {p} holds no certificate")
        try:
            family_of(found[0])
        except (EnvelopeError, crypto.AlgorithmError) as exc:
            raise ConfigError(f"{where}: {p}: {exc}") from exc
        certs.append(found[0])
    return certs
