"""Detached CMS (RFC 5652) SignedData over exact bytes: built here, checked here, and
readable by ``openssl cms -verify -binary -inform DER``.

One signer, signed attributes contentType = data, signingTime and messageDigest; the
signature covers the DER SET OF those attributes (sorted, as DER requires, so that OpenSSL's
re-encoding gives the same bytes).  The verifier checks the structure, the digest and the
signature over the attributes exactly as received; trust in the certificate is
``hub.package.trust``'s job.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import cms, core

from hub.errors import HubError, InputError
from hub.package import crypto
from hub.package.crypto import PrivateKey
from hub.package.pki import Cert


class CmsError(HubError):
    """A signature that cannot be accepted; ``code`` is the reason code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@contextlib.contextmanager
def refusing(origin: str) -> Iterator[None]:
    """Turn a CmsError into the InputError (same reason code) that refuses ``origin``."""
    try:
        yield
    except CmsError as exc:
        raise InputError(origin, str(exc), code=exc.code) from exc


@dataclass(frozen=True)
class Signed:
    """What a valid signature says: who (certificate and the others sent along) and when."""

    signer: Cert
    certificates: list[Cert]
    signing_time: datetime | None
    digest: str


def sign_detached(
    content: bytes, key: PrivateKey, cert: Cert, chain: list[Cert], when: datetime
) -> bytes:
    digest_oid = crypto.DIGEST_OIDS[key.digest]
    attrs = [
        cms.CMSAttribute({"type": "content_type", "values": ["data"]}),
        cms.CMSAttribute({"type": "signing_time", "values": [cms.Time({"utc_time": when})]}),
        cms.CMSAttribute(
            {"type": "message_digest", "values": [crypto.digest(key.digest, content)]}
        ),
    ]
    attrs.sort(key=lambda a: a.dump())  # DER: a SET OF is ordered by its elements' encodings
    signed_attrs = cms.CMSAttributes(attrs)
    signature = key.sign(signed_attrs.dump())
    sig_algo: dict[str, Any] = {"algorithm": key.signature_oid}
    if key.family == "rsa":
        sig_algo["parameters"] = core.Null()
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": {
                        "issuer": cert.asn.issuer,
                        "serial_number": cert.serial,
                    }
                }
            ),
            "digest_algorithm": {"algorithm": digest_oid},
            "signed_attrs": signed_attrs,
            "signature_algorithm": sig_algo,
            "signature": signature,
        }
    )
    signed_data = cms.SignedData(
        {
            "version": "v1",
            "digest_algorithms": [{"algorithm": digest_oid}],
            "encap_content_info": {"content_type": "data"},
            "certificates": [c.asn for c in [cert, *chain]],
            "signer_infos": [signer_info],
        }
    )
    return bytes(cms.ContentInfo({"content_type": "signed_data", "content": signed_data}).dump())


def verify_detached(p7s: bytes, content: bytes) -> Signed:
    """Check a detached signature over ``content``; raise CmsError with a reason code.

    Strict, so that no byte of signature.p7s can change without a refusal (a verifier that
    accepts bytes it does not check is malleable: the package's hash changes while it still
    verifies): DER only, versions as RFC 5652 requires for the signer identifier used, one
    SignerInfo whose digest algorithm is the one SignedData lists, no unsigned attributes,
    certificates in DER (``Cert.load_strict``)."""
    try:
        info = cms.ContentInfo.load(p7s, strict=True)
        if info["content_type"].native != "signed_data":
            raise CmsError("signature.invalid", "signature.p7s is not a CMS SignedData")
        sd = info["content"]
        sd.native  # noqa: B018 - parse it all: a malformed field fails here
        der = bytes(info.dump(force=True))
        infos = list(sd["signer_infos"])
        encap = sd["encap_content_info"]
    except CmsError:
        raise
    except Exception as exc:
        raise CmsError("signature.invalid", f"signature.p7s is not valid DER CMS: {exc}") from exc
    if der != p7s:
        at = next((i for i, (a, b) in enumerate(zip(der, p7s, strict=False)) if a != b), None)
        raise CmsError(
            "signature.encoding",
            f"signature.p7s is not in DER (it differs from its DER re-encoding at byte "
            f"{at if at is not None else min(len(der), len(p7s))}); send DER only",
        )
    if len(infos) != 1:
        raise CmsError("signature.invalid", f"expected one signer, found {len(infos)}")
    _structure(sd, infos[0])
    try:
        certs = [
            Cert.load_strict(c.chosen.dump()) for c in sd["certificates"] if c.name == "certificate"
        ]
    except ValueError as exc:
        raise CmsError("signature.encoding", f"signature.p7s: {exc}") from exc
    if len(certs) != len(sd["certificates"]):
        raise CmsError("signature.invalid", "signature.p7s carries certificates of other kinds")
    if encap["content_type"].native != "data" or encap["content"].native is not None:
        raise CmsError("signature.invalid", "the signature must be detached over data")
    si = infos[0]
    try:
        digest = crypto.digest_name(si["digest_algorithm"]["algorithm"].dotted)
    except crypto.AlgorithmError as exc:
        raise CmsError("signature.algorithm", str(exc)) from exc
    signer = _find_signer(si["sid"], certs)
    attrs = si["signed_attrs"]
    if not attrs:
        raise CmsError("signature.invalid", "the signature has no signed attributes")
    found: dict[str, list[Any]] = {}
    for a in attrs:
        name = a["type"].native
        if name in found:
            raise CmsError("signature.invalid", f"signed attribute {name} appears twice")
        found[name] = list(a["values"])
    if [v.native for v in found.get("content_type", [])] != ["data"]:
        raise CmsError("signature.invalid", "signed contentType must be data")
    md = found.get("message_digest", [])
    if len(md) != 1:
        raise CmsError("signature.invalid", "signed messageDigest missing")
    if md[0].native != crypto.digest(digest, content):
        raise CmsError(
            "signature.digest", "the manifest's digest differs from the signed messageDigest"
        )
    when = found.get("signing_time", [None])[0]
    signing_time = when.native if when is not None else None
    raw_attrs = b"\x31" + bytes(attrs.dump())[1:]  # [0] IMPLICIT → the SET OF that was signed
    try:
        crypto.verify(
            signer.spki,
            si["signature_algorithm"]["algorithm"].dotted,
            si["digest_algorithm"]["algorithm"].dotted,
            bytes(si["signature"].native),
            raw_attrs,
        )
    except crypto.AlgorithmError as exc:
        raise CmsError("signature.algorithm", str(exc)) from exc
    except crypto.BadSignature as exc:
        raise CmsError("signature.invalid", f"the signature does not verify: {exc}") from exc
    return Signed(signer, certs, signing_time, digest)


def _structure(sd: Any, si: Any) -> None:
    """What no signature covers must be exactly as RFC 5652 has it for this signer."""
    ski = si["sid"].name == "subject_key_identifier"
    want = "v3" if ski else "v1"
    if si["version"].native != want or sd["version"].native != want:
        raise CmsError(
            "signature.invalid",
            f"SignedData {sd['version'].native} and SignerInfo {si['version'].native} with "
            f"a {si['sid'].name} signer identifier; RFC 5652 requires {want} for both",
        )
    algos = list(sd["digest_algorithms"])
    if len(algos) != 1 or algos[0].dump() != si["digest_algorithm"].dump():
        raise CmsError(
            "signature.invalid",
            "SignedData's digestAlgorithms must list exactly the signer's digest algorithm",
        )
    if si["unsigned_attrs"].native is not None or sd["crls"].native is not None:
        raise CmsError("signature.invalid", "unsigned attributes and CRLs are not accepted")


def _find_signer(sid: Any, certs: list[Cert]) -> Cert:
    if sid.name == "issuer_and_serial_number":
        want_issuer = bytes(sid.chosen["issuer"].dump())
        want_serial = sid.chosen["serial_number"].native
        for c in certs:
            if c.issuer == want_issuer and c.serial == want_serial:
                return c
    else:
        ski = sid.chosen.native
        for c in certs:
            if c.asn.key_identifier == ski:
                return c
    raise CmsError("signature.invalid", "the signer's certificate is not in the signature")
