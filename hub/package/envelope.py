"""Encrypted packages: CMS (RFC 5652) envelopes around a signed package, sign then encrypt.

What is sealed is the signed package archive, byte for byte, so the receiver decrypts and
then verifies as for any package, and receipts name the archive's SHA-256 as always.

- RSA recipients: AuthEnvelopedData (RFC 5083), AES-256-GCM (RFC 5084), the content key
  wrapped with RSAES-OAEP, SHA-256 and MGF1-SHA-256 (RFC 8017);
- ECDH recipients (P-256, P-384): the same AES-256-GCM content, the key agreed with an
  ephemeral key (dhSinglePass-stdDH-sha256kdf-scheme, RFC 5753) and AES-256 key wrap;
- SM2 recipients (国密): EnvelopedData with SM4-CBC (GM/T 0010), the content key encrypted
  with SM2 (GB/T 32918.4).  CBC is not authenticated: the package's signature inside is what
  shows the bytes are whole, and every failure after decryption is one refusal.

OpenSSL 3 opens the first two (``openssl cms -decrypt -inform DER -in P.p7m -inkey K``); the
third opens with Tongsuo's ``cms -decrypt``, or with stock OpenSSL in two steps
(``pkeyutl -decrypt`` for the key, ``enc -d -sm4-cbc`` for the content: docs/package-format.md).

A node may hold several decryption keys (the current one and those it rotated out): an
envelope is opened with the key whose certificate one of its recipient infos names.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from asn1crypto import algos, cms, core
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tongsuopy.crypto.ciphers import Cipher, algorithms, modes

from hub.package.pki import Cert
from hub.package.recipients import (
    EnvelopeError,
    Recipient,
    content_key,
    err,
    family_of,
    recipient_info,
)

__all__ = ["EnvelopeError", "Opened", "Recipient", "is_envelope", "open_envelope", "seal"]

DATA = "1.2.840.113549.1.7.1"
ENVELOPED = "1.2.840.113549.1.7.3"
AUTH_ENVELOPED = "1.2.840.113549.1.9.16.1.23"
AES256_GCM = "2.16.840.1.101.3.4.1.46"
AES_GCM = {"2.16.840.1.101.3.4.1.6": 16, "2.16.840.1.101.3.4.1.26": 24, AES256_GCM: 32}
SM4_CBC = "1.2.156.10197.1.104.2"
ENVELOPE_SUFFIX = ".p7m"
_NAMES = {ENVELOPED: "EnvelopedData", AUTH_ENVELOPED: "AuthEnvelopedData"}


class GcmParameters(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[Any]] = [
        ("nonce", core.OctetString),
        ("icv_len", core.Integer, {"default": 12}),
    ]


@dataclass(frozen=True)
class Opened:
    content: bytes
    recipient: Cert  # the certificate whose key opened it
    cipher: str  # aes-256-gcm, sm4-cbc


def is_envelope(data: bytes) -> bool:
    """Whether ``data`` looks like a CMS (Auth)EnvelopedData rather than a package archive."""
    head = data[:40]
    oids = (core.ObjectIdentifier(ENVELOPED).dump(), core.ObjectIdentifier(AUTH_ENVELOPED).dump())
    return head[:1] == b"\x30" and any(o in head for o in oids)


# ---- sealing ----------------------------------------------------------------------------


def seal(content: bytes, certs: Sequence[Cert]) -> bytes:
    """``content`` encrypted for every certificate in ``certs`` (DER ContentInfo)."""
    if not certs:
        raise EnvelopeError("no certificate to encrypt to")
    families = {family_of(c) for c in certs}
    if "sm2" in families and families != {"sm2"}:
        raise EnvelopeError(
            "SM2 and RSA/ECDSA certificates cannot share one envelope (SM4 against AES); "
            "encrypt to one family"
        )
    if families == {"sm2"}:
        cek, iv = os.urandom(16), os.urandom(16)
        pad = padding.PKCS7(128).padder()
        enc = Cipher(algorithms.SM4(cek), modes.CBC(iv)).encryptor()
        body = enc.update(pad.update(content) + pad.finalize()) + enc.finalize()
        eci = _eci(SM4_CBC, core.OctetString(iv), body)
        env = cms.EnvelopedData(
            {
                "version": "v0",
                "recipient_infos": [recipient_info(c, cek) for c in certs],
                "encrypted_content_info": eci,
            }
        )
        return bytes(cms.ContentInfo({"content_type": ENVELOPED, "content": env}).dump())
    cek, nonce = os.urandom(32), os.urandom(12)
    sealed = AESGCM(cek).encrypt(nonce, content, None)
    gcm = GcmParameters({"nonce": nonce, "icv_len": 16})
    eci = _eci(AES256_GCM, gcm, sealed[:-16])
    auth = cms.AuthEnvelopedData(
        {
            "version": "v0",
            "recipient_infos": [recipient_info(c, cek) for c in certs],
            "auth_encrypted_content_info": eci,
            "mac": sealed[-16:],
        }
    )
    return bytes(cms.ContentInfo({"content_type": AUTH_ENVELOPED, "content": auth}).dump())


def _eci(oid: str, params: core.Asn1Value, body: bytes) -> cms.EncryptedContentInfo:
    return cms.EncryptedContentInfo(
        {
            "content_type": DATA,
            "content_encryption_algorithm": algos.EncryptionAlgorithm(
                {"algorithm": oid, "parameters": core.Any.load(params.dump())}
            ),
            "encrypted_content": body,
        }
    )


# ---- opening ----------------------------------------------------------------------------


def open_envelope(data: bytes, origin: str, mine: Sequence[Recipient]) -> Opened:
    """The content of an envelope, opened with whichever of ``mine`` it was sealed for.

    InputError codes: ``envelope.malformed``, ``envelope.algorithm``, ``envelope.not_for_us``
    (no recipient is one of ``mine``), ``envelope.key`` (ours, but the key does not open it),
    ``envelope.corrupt`` (the content does not decrypt whole)."""
    try:
        info = cms.ContentInfo.load(data, strict=True)
        kind = info["content_type"].dotted
        if kind not in (ENVELOPED, AUTH_ENVELOPED):
            raise err(origin, f"is CMS {kind}, not an encrypted package", "envelope.malformed")
        env = info["content"]
        eci = env[
            "auth_encrypted_content_info" if kind == AUTH_ENVELOPED else "encrypted_content_info"
        ]
        infos = list(env["recipient_infos"])
    except (ValueError, TypeError, KeyError) as exc:
        raise err(origin, f"is not a readable CMS envelope ({exc})", "envelope.malformed") from exc
    cek, cert = content_key(infos, mine, origin)
    content, cipher = _decrypt(env, eci, kind, cek, origin)
    return Opened(content, cert, cipher)


def _decrypt(
    env: cms.Asn1Value, eci: cms.EncryptedContentInfo, kind: str, cek: bytes, origin: str
) -> tuple[bytes, str]:
    algo = eci["content_encryption_algorithm"]
    oid = algo["algorithm"].dotted
    body = bytes(eci["encrypted_content"].native or b"")
    corrupt = err(
        origin, "does not decrypt whole: the envelope was altered on the way", "envelope.corrupt"
    )
    params = algo["parameters"].dump()
    if kind == AUTH_ENVELOPED and oid in AES_GCM and len(cek) == AES_GCM[oid]:
        gcm = GcmParameters.load(params)
        tag = bytes(env["mac"].native)
        if len(tag) != int(gcm["icv_len"].native) or len(tag) < 12:
            raise corrupt
        try:
            plain = AESGCM(cek).decrypt(bytes(gcm["nonce"].native), body + tag, None)
        except InvalidTag:
            raise corrupt from None
        return plain, f"aes-{len(cek) * 8}-gcm"
    if kind == ENVELOPED and oid == SM4_CBC and len(cek) == 16:
        iv = bytes(core.OctetString.load(params).native)
        try:
            dec = Cipher(algorithms.SM4(cek), modes.CBC(iv)).decryptor()
            padded = dec.update(body) + dec.finalize()
            unpad = padding.PKCS7(128).unpadder()
            return unpad.update(padded) + unpad.finalize(), "sm4-cbc"
        except ValueError:
            raise corrupt from None
    raise err(
        origin,
        f"encrypts its content with {oid} in {_NAMES[kind]}; "
        "expected AES-GCM (AuthEnvelopedData) or SM4-CBC (EnvelopedData, SM2 recipients)",
        "envelope.algorithm",
    )


@dataclass(frozen=True)
class Unsealer:
    """What a receiving node does with envelopes: its keys (current first, then the retired
    ones it keeps for packages sealed before a rotation) and whether it takes nothing else."""

    keys: tuple[Recipient, ...] = ()
    required: bool = False

    def open(self, data: bytes, origin: str) -> tuple[bytes, str | None]:
        """The package archive inside ``data`` and how it came (None: not encrypted)."""
        if is_envelope(data):
            if not self.keys:
                raise err(
                    origin,
                    "is encrypted, but this node has no decryption key: set [encryption] cert "
                    "and key to the certificate the sender encrypts to",
                    "envelope.not_for_us",
                )
            o = open_envelope(data, origin, self.keys)
            return o.content, f"{o.cipher}, to certificate serial {o.recipient.serial:x}"
        if self.required:
            raise err(
                origin,
                "is not encrypted, and this node takes encrypted packages only ([encryption] "
                "require = true): the sender must encrypt to this node's certificate "
                "(encrypt_to in its [forward.NAME] target)",
                "envelope.required",
            )
        return data, None
