"""X.509 certificates and CRLs over asn1crypto: parsed for every family (SM2 included), and
built for `hub keys init` and the tests.  A node's platform code sits in the certificate
subject's serialNumber attribute (2.5.4.5); that is what binds a signer to a sender.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import core, crl, keys, pem, x509

from hub.package import crypto
from hub.package.crypto import PrivateKey


@dataclass(frozen=True)
class Cert:
    der: bytes
    asn: Any  # asn1crypto.x509.Certificate

    @classmethod
    def load(cls, der: bytes) -> Cert:
        c = x509.Certificate.load(der)
        c.native  # noqa: B018 - parse everything now: a malformed field fails here, not later
        return cls(der, c)

    @classmethod
    def load_strict(cls, der: bytes) -> Cert:
        """A certificate that came inside a signature: DER exactly (its bytes are what a
        re-encoding of its values gives), its signature algorithm named the same inside and
        outside the signed part, its signature a whole number of bytes.  Raises ValueError."""
        c = cls.load(der)
        if bytes(c.asn.dump(force=True)) != der:
            raise ValueError(f"certificate {c.name!r} is not in DER")
        if c.asn["signature_algorithm"].dump() != c.tbs["signature"].dump():
            raise ValueError(f"certificate {c.name!r} names two signature algorithms")
        if c.asn["signature_value"].contents[:1] != b"\x00":
            raise ValueError(f"certificate {c.name!r} has a signature with unused bits")
        return c

    @property
    def tbs(self) -> Any:
        return self.asn["tbs_certificate"]

    @property
    def subject(self) -> bytes:
        return bytes(self.tbs["subject"].dump())

    @property
    def issuer(self) -> bytes:
        return bytes(self.tbs["issuer"].dump())

    @property
    def serial(self) -> int:
        return int(self.tbs["serial_number"].native)

    @property
    def spki(self) -> bytes:
        return bytes(self.tbs["subject_public_key_info"].dump())

    @property
    def not_before(self) -> datetime:
        return self.tbs["validity"]["not_before"].native  # type: ignore[no-any-return]

    @property
    def not_after(self) -> datetime:
        return self.tbs["validity"]["not_after"].native  # type: ignore[no-any-return]

    @property
    def is_ca(self) -> bool:
        bc = self.asn.basic_constraints_value
        return bool(bc and bc["ca"].native)

    @property
    def key_usage(self) -> set[str] | None:
        ku = self.asn.key_usage_value
        return set(ku.native) if ku is not None else None

    @property
    def platform_code(self) -> str | None:
        for rdn in self.tbs["subject"].chosen:
            for atv in rdn:
                if atv["type"].dotted == "2.5.4.5":
                    return str(atv["value"].native)
        return None

    @property
    def name(self) -> str:
        return str(self.tbs["subject"].human_friendly)

    def issued_by(self, issuer: Cert) -> bool:
        """Names chain and ``issuer``'s key verifies this certificate's signature."""
        return self.issuer == issuer.subject and _signed(
            issuer, self.asn, self.asn["signature_value"], self.tbs
        )

    def pem(self) -> bytes:
        return bytes(pem.armor("CERTIFICATE", self.der))


def _signed(issuer: Cert, outer: Any, signature: Any, tbs: Any) -> bool:
    """Does ``issuer``'s key verify a certificate's or CRL's signature over its TBS part?"""
    try:
        crypto.verify(
            issuer.spki,
            outer["signature_algorithm"]["algorithm"].dotted,
            None,
            bytes(signature.native),
            bytes(tbs.dump()),
        )
    except (crypto.BadSignature, crypto.AlgorithmError):
        return False  # not issued by this key (an algorithm it cannot use: not by it either)
    return True


def load_certs(data: bytes) -> list[Cert]:
    """Every certificate in a PEM bundle, or one DER certificate."""
    if pem.detect(data):
        return [
            Cert.load(der)
            for kind, _, der in pem.unarmor(data, multiple=True)
            if kind == "CERTIFICATE"
        ]
    return [Cert.load(data)]


def _sig_algo(key: PrivateKey) -> dict[str, Any]:
    algo: dict[str, Any] = {"algorithm": key.signature_oid}
    if key.family == "rsa":
        algo["parameters"] = core.Null()
    return algo


def _key_id(spki: bytes) -> bytes:
    bits = keys.PublicKeyInfo.load(spki)["public_key"].contents[1:]
    return hashlib.sha1(bits, usedforsecurity=False).digest()  # RFC 5280 §4.2.1.2 method 1


def _name(cn: str, platform: str | None, org: str) -> Any:
    attrs = {"country_name": "CN", "organization_name": org, "common_name": cn}
    if platform:
        attrs["serial_number"] = platform
    return x509.Name.build(attrs)


def issue(
    *,
    subject_cn: str,
    platform_code: str | None,
    subject_key: PrivateKey,
    issuer: Cert | None,
    issuer_key: PrivateKey,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    ca: bool,
    org: str = "hub test PKI",
    usage: set[str] | None = None,
) -> Cert:
    """A certificate for ``subject_key``, signed by ``issuer_key`` (self-signed: issuer None)."""
    spki = subject_key.public_der()
    subject = _name(subject_cn, platform_code, org)
    if usage is None:  # a CA signs certificates; a node signs packages
        usage = {"key_cert_sign", "crl_sign"} if ca else {"digital_signature", "non_repudiation"}
    issuer_spki = issuer.spki if issuer else spki
    exts = [
        {"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": ca}},
        {"extn_id": "key_usage", "critical": True, "extn_value": usage},
        {"extn_id": "key_identifier", "critical": False, "extn_value": _key_id(spki)},
        {
            "extn_id": "authority_key_identifier",
            "critical": False,
            "extn_value": {"key_identifier": _key_id(issuer_spki)},
        },
    ]
    tbs = x509.TbsCertificate(
        {
            "version": "v3",
            "serial_number": serial,
            "signature": _sig_algo(issuer_key),
            "issuer": issuer.asn.subject if issuer else subject,
            "validity": {
                "not_before": x509.Time({"utc_time": not_before}),
                "not_after": x509.Time({"utc_time": not_after}),
            },
            "subject": subject,
            "subject_public_key_info": keys.PublicKeyInfo.load(spki),
            "extensions": exts,
        }
    )
    cert = x509.Certificate(
        {
            "tbs_certificate": tbs,
            "signature_algorithm": _sig_algo(issuer_key),
            "signature_value": issuer_key.sign(tbs.dump()),
        }
    )
    return Cert.load(cert.dump())


@dataclass(frozen=True)
class Crl:
    der: bytes
    asn: Any  # asn1crypto.crl.CertificateList

    @classmethod
    def load(cls, data: bytes) -> Crl:
        if pem.detect(data):
            _, _, data = pem.unarmor(data)
        c = crl.CertificateList.load(data)
        c.native  # noqa: B018 - parse it all now
        return cls(bytes(data), c)

    @property
    def issuer(self) -> bytes:
        return bytes(self.asn["tbs_cert_list"]["issuer"].dump())

    @property
    def this_update(self) -> datetime:
        return self.asn["tbs_cert_list"]["this_update"].native  # type: ignore[no-any-return]

    @property
    def next_update(self) -> datetime | None:
        return self.asn["tbs_cert_list"]["next_update"].native  # type: ignore[no-any-return]

    def revoked(self, serial: int) -> datetime | None:
        for r in self.asn["tbs_cert_list"]["revoked_certificates"]:
            if r["user_certificate"].native == serial:
                return r["revocation_date"].native  # type: ignore[no-any-return]
        return None

    def signed_by(self, issuer: Cert) -> bool:
        return self.issuer == issuer.subject and _signed(
            issuer, self.asn, self.asn["signature"], self.asn["tbs_cert_list"]
        )


def make_crl(
    issuer: Cert,
    issuer_key: PrivateKey,
    revoked: list[tuple[int, datetime]],
    this_update: datetime,
    next_update: datetime,
) -> Crl:
    tbs = crl.TbsCertList(
        {
            "version": "v2",
            "signature": _sig_algo(issuer_key),
            "issuer": issuer.asn.subject,
            "this_update": x509.Time({"utc_time": this_update}),
            "next_update": x509.Time({"utc_time": next_update}),
            "revoked_certificates": [
                {"user_certificate": s, "revocation_date": x509.Time({"utc_time": when})}
                for s, when in revoked
            ]
            or None,
        }
    )
    c = crl.CertificateList(
        {
            "tbs_cert_list": tbs,
            "signature_algorithm": _sig_algo(issuer_key),
            "signature": issuer_key.sign(tbs.dump()),
        }
    )
    return Crl.load(c.dump())
