"""Is a signer trusted: a path to a configured anchor, each certificate valid when the
signature was made, usable for what it did, not revoked, and bound to the sender.

Fails closed: a CA with no configured CRL, a CRL past its next update, an unknown algorithm
or a signing time outside the accepted window are refusals, not warnings ("unknown" is not
"good", design §8).  Paths are short here (node → CA, or node → intermediate → CA).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from hub.errors import ConfigError
from hub.package.cms import CmsError, Signed
from hub.package.pki import Cert, Crl, load_certs

MAX_PATH = 5


def _expand(paths: list[Path], pattern: str) -> list[Path]:
    """A folder stands for the files in it that match ``pattern`` (sorted)."""
    out: list[Path] = []
    for p in paths:
        out += sorted(p.glob(pattern)) if p.is_dir() else [p]
    return out


@dataclass(frozen=True)
class TrustStore:
    anchors: list[Cert]
    crls: list[Crl] = field(default_factory=list)
    require_crl: bool = True
    max_signature_age: timedelta = timedelta(days=30)
    max_clock_skew: timedelta = timedelta(minutes=5)

    @classmethod
    def from_files(
        cls,
        anchors: list[Path],
        crls: list[Path],
        *,
        require_crl: bool = True,
        max_signature_age: timedelta = timedelta(days=30),
    ) -> TrustStore:
        anchors, crls = _expand(anchors, "*.pem"), _expand(crls, "*.crl")
        certs: list[Cert] = []
        for p in anchors:
            try:
                certs += load_certs(p.read_bytes())
            except OSError as exc:
                raise ConfigError(f"trust anchor {str(p)!r} cannot be read: {exc}") from exc
            except Exception as exc:
                raise ConfigError(f"trust anchor {str(p)!r} is not a certificate: {exc}") from exc
        lists: list[Crl] = []
        for p in crls:
            try:
                lists.append(Crl.load(p.read_bytes()))
            except OSError as exc:
                raise ConfigError(f"CRL {str(p)!r} cannot be read: {exc}") from exc
            except Exception as exc:
                raise ConfigError(f"CRL {str(p)!r} is not a CRL: {exc}") from exc
        if not certs:
            raise ConfigError(
                "no trust anchor configured: [trust].anchors is empty or names only empty "
                "folders; put the CA certificate (*.pem) and CRL (*.crl) of each platform this "
                "node receives from in its trust folder"
            )
        return cls(certs, lists, require_crl, max_signature_age)


def check(
    signed: Signed,
    trust: TrustStore,
    sender: str,
    now: datetime,
    *,
    role: str = "the manifest's sender",
) -> list[Cert]:
    """The validated path (signer first, anchor last); raise CmsError with a reason code."""
    at = signed.signing_time
    if at is None:
        raise CmsError("signature.invalid", "the signature has no signing time")
    if at > now + trust.max_clock_skew:
        raise CmsError("signature.time", f"signing time {at.isoformat()} is in the future")
    if at < now - trust.max_signature_age:
        raise CmsError(
            "signature.time",
            f"signing time {at.isoformat()} is older than {trust.max_signature_age.days} days",
        )
    path = _build_path(signed.signer, signed.certificates, trust.anchors)
    on_path = {c.der for c in path}
    stray = [c.name for c in signed.certificates if c.der not in on_path]
    if stray:  # bytes that no check would read: refused, like any unchecked part
        raise CmsError(
            "cert.extra",
            f"signature.p7s carries certificates not on the signer's path: {', '.join(stray)}",
        )
    for i, c in enumerate(path):
        if not c.not_before <= at <= c.not_after:
            raise CmsError(
                "cert.expired",
                f"certificate {c.name!r} is valid {c.not_before:%Y-%m-%d} to "
                f"{c.not_after:%Y-%m-%d}, not at signing time {at:%Y-%m-%d %H:%M}",
            )
        if i > 0 and not c.is_ca:
            raise CmsError("cert.usage", f"{c.name!r} signs certificates but is not a CA")
        usage = c.key_usage
        if i == 0 and (usage is None or not usage & {"digital_signature", "non_repudiation"}):
            raise CmsError("cert.usage", f"{c.name!r} is not for signing (key usage {usage})")
        if i > 0 and usage is not None and "key_cert_sign" not in usage:
            raise CmsError("cert.usage", f"{c.name!r} may not sign certificates")
    for c, issuer in itertools.pairwise(path):
        _revocation(c, issuer, trust, now)
    if signed.signer.platform_code != sender:
        raise CmsError(
            "cert.platform",
            f"the signer's certificate is for platform {signed.signer.platform_code!r}, "
            f"{role} is {sender!r}",
        )
    return path


def _build_path(signer: Cert, sent: list[Cert], anchors: list[Cert]) -> list[Cert]:
    path = [signer]
    cur = signer
    for _ in range(MAX_PATH):
        for a in anchors:
            if cur.issued_by(a):
                return [*path, a] if a.der != cur.der else path
        nxt = next((c for c in sent if c.der != cur.der and cur.issued_by(c)), None)
        if nxt is None or nxt in path:
            break
        path.append(nxt)
        cur = nxt
    raise CmsError("cert.untrusted", f"no path from {signer.name!r} to a configured trust anchor")


def _revocation(c: Cert, issuer: Cert, trust: TrustStore, now: datetime) -> None:
    lists = [x for x in trust.crls if x.issuer == issuer.subject]
    if not lists:
        if trust.require_crl:
            raise CmsError("crl.missing", f"no CRL configured for issuer {issuer.name!r}")
        return
    for x in lists:
        if not x.signed_by(issuer):
            raise CmsError("crl.invalid", f"the CRL of {issuer.name!r} is not signed by it")
        if x.next_update is not None and x.next_update < now:
            raise CmsError(
                "crl.stale", f"the CRL of {issuer.name!r} expired {x.next_update.isoformat()}"
            )
        when = x.revoked(c.serial)
        if when is not None:
            raise CmsError(
                "cert.revoked",
                f"certificate {c.name!r} (serial {c.serial}) was revoked {when.isoformat()}",
            )
