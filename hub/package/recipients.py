"""The recipient infos of a CMS envelope: how the content key reaches each recipient.

RSA: KeyTransRecipientInfo with RSAES-OAEP (SHA-256/384/512, MGF1 with the same hash).
ECDH: KeyAgreeRecipientInfo, an ephemeral key, dhSinglePass-stdDH-sha*kdf-scheme and AES key
wrap (RFC 5753).  SM2: KeyTransRecipientInfo with SM2 encryption (GM/T 0010).  Anything else
is ``envelope.algorithm``; a recipient info that names this node but does not open with its
key is ``envelope.key``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from asn1crypto import cms, core, keys
from cryptography.hazmat.primitives import hashes, keywrap, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as apad
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF

from hub.errors import HubError, InputError
from hub.package import crypto, sm2cipher
from hub.package.crypto import PrivateKey
from hub.package.pki import Cert

RSAES_OAEP = "1.2.840.113549.1.1.7"
ECDH_SHA256 = "1.3.132.1.11.1"
ECDH_KDF = {ECDH_SHA256: "sha256", "1.3.132.1.11.2": "sha384", "1.3.132.1.11.3": "sha512"}
AES256_WRAP = "2.16.840.1.101.3.4.1.45"
AES_WRAP = {"2.16.840.1.101.3.4.1.5": 16, "2.16.840.1.101.3.4.1.25": 24, AES256_WRAP: 32}
SM2_ENCRYPT = "1.2.156.10197.1.301.3"  # GM/T 0006 sm2-3; Tongsuo also writes the curve OID
SM2_KEY_OIDS = {SM2_ENCRYPT, crypto.SM2_CURVE}
HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


class EccCmsSharedInfo(core.Sequence):  # type: ignore[misc]  # RFC 5753 §7.2
    _fields: ClassVar[list[Any]] = [
        ("key_info", cms.KeyEncryptionAlgorithm),
        ("entity_u_info", core.OctetString, {"explicit": 0, "optional": True}),
        ("supp_pub_info", core.OctetString, {"explicit": 2}),
    ]


class _AlgorithmId(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[Any]] = [
        ("algorithm", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class _Spki(core.Sequence):  # type: ignore[misc]
    _fields: ClassVar[list[Any]] = [
        ("algorithm", _AlgorithmId),
        ("public_key", core.OctetBitString),
    ]


class EnvelopeError(HubError):
    """A certificate cannot be encrypted to (its family, curve or key usage)."""


@dataclass(frozen=True)
class Recipient:
    """One of this node's decryption identities: a certificate and its private key."""

    cert: Cert
    key: PrivateKey


def err(origin: str, text: str, code: str) -> InputError:
    return InputError(origin, text, code=code)


def family_of(cert: Cert) -> str:
    family = crypto.key_family(cert.spki)
    usage = cert.key_usage
    want = "key_agreement" if family == "ecdsa" else "key_encipherment"
    if usage is not None and want not in usage:
        raise EnvelopeError(
            f"certificate {cert.name!r} does not allow {want.replace('_', ' ')} (its key usage "
            f"is {', '.join(sorted(usage))}); encrypt to the receiver's encryption certificate"
        )
    return family


def _rid(cert: Cert) -> cms.RecipientIdentifier:
    ias = cms.IssuerAndSerialNumber({"issuer": cert.tbs["issuer"], "serial_number": cert.serial})
    return cms.RecipientIdentifier({"issuer_and_serial_number": ias})


def _ktri(cert: Cert, algo: cms.KeyEncryptionAlgorithm, wrapped: bytes) -> cms.RecipientInfo:
    ktri = {
        "version": "v0",
        "rid": _rid(cert),
        "key_encryption_algorithm": algo,
        "encrypted_key": wrapped,
    }
    return cms.RecipientInfo({"ktri": cms.KeyTransRecipientInfo(ktri)})


def recipient_info(cert: Cert, cek: bytes) -> cms.RecipientInfo:
    family = family_of(cert)
    if family == "rsa":
        pub = serialization.load_der_public_key(cert.spki)
        assert isinstance(pub, rsa.RSAPublicKey)
        wrapped = pub.encrypt(cek, _oaep("sha256"))
        algo = cms.KeyEncryptionAlgorithm(
            {
                "algorithm": RSAES_OAEP,
                "parameters": {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "mask_gen_algorithm": {
                        "algorithm": "mgf1",
                        "parameters": {"algorithm": "sha256"},
                    },
                },
            }
        )
        return _ktri(cert, algo, wrapped)
    if family == "sm2":
        algo = cms.KeyEncryptionAlgorithm({"algorithm": SM2_ENCRYPT})
        return _ktri(cert, algo, sm2cipher.encrypt(cert.spki, cek))
    pub = serialization.load_der_public_key(cert.spki)
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    eph = ec.generate_private_key(pub.curve)
    wrap = cms.KeyEncryptionAlgorithm({"algorithm": AES256_WRAP})
    kek = _kek(eph.exchange(ec.ECDH(), pub), "sha256", wrap, 32, None)
    point = eph.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    # RFC 5753: the originator's key names id-ecPublicKey without parameters (the curve is
    # the recipient's)
    bare = _Spki({"algorithm": {"algorithm": crypto.EC_PUBLIC_KEY}, "public_key": point})
    originator = keys.PublicKeyInfo.load(bare.dump())
    kari = cms.KeyAgreeRecipientInfo(
        {
            "version": "v3",
            "originator": cms.OriginatorIdentifierOrKey({"originator_key": originator}),
            "key_encryption_algorithm": cms.KeyEncryptionAlgorithm(
                {"algorithm": ECDH_SHA256, "parameters": core.Any.load(wrap.dump())}
            ),
            "recipient_encrypted_keys": [
                {
                    "rid": cms.KeyAgreementRecipientIdentifier(
                        {"issuer_and_serial_number": _rid(cert).chosen}
                    ),
                    "encrypted_key": keywrap.aes_key_wrap(kek, cek),
                }
            ],
        }
    )
    return cms.RecipientInfo({"kari": kari})


def _oaep(digest: str) -> apad.OAEP:
    h = HASHES[digest]
    return apad.OAEP(mgf=apad.MGF1(h), algorithm=h, label=None)


def _kek(
    shared: bytes, digest: str, wrap: cms.KeyEncryptionAlgorithm, size: int, ukm: bytes | None
) -> bytes:
    """RFC 5753's key-encryption key: ANSI X9.63 KDF over the shared secret and
    ECC-CMS-SharedInfo (the wrap algorithm, the ukm, the key length in bits)."""
    info: dict[str, object] = {"key_info": wrap, "supp_pub_info": (size * 8).to_bytes(4, "big")}
    if ukm is not None:
        info["entity_u_info"] = ukm
    shared_info = EccCmsSharedInfo(info).dump()
    return X963KDF(HASHES[digest], size, shared_info).derive(shared)


def content_key(
    infos: list[cms.RecipientInfo], mine: Sequence[Recipient], origin: str
) -> tuple[bytes, Cert]:
    """The content key, from the recipient info that names one of ``mine``, and whose
    certificate that is; ``envelope.not_for_us`` when none does."""
    try:
        named = [(ri, names(ri)) for ri in infos]
    except (ValueError, TypeError, KeyError) as exc:
        raise err(origin, f"has unreadable recipient infos ({exc})", "envelope.malformed") from exc
    for ri, rids in named:
        for r in mine:
            if (r.cert.issuer, r.cert.serial) in rids:
                return unwrap(ri, r, origin), r.cert
    theirs = sorted({f"serial {s:x}" for _, rids in named for _, s in rids})
    ours = sorted(f"{r.cert.name} (serial {r.cert.serial:x})" for r in mine) or ["none"]
    raise err(
        origin,
        f"is encrypted for {', '.join(theirs) or 'no recipient'}, none of which is this node's "
        f"decryption certificate ({'; '.join(ours)}): it is not for this node; the sender "
        "must encrypt to this node's current certificate ([encryption].cert)",
        "envelope.not_for_us",
    )


def names(ri: cms.RecipientInfo) -> set[tuple[bytes, int]]:
    """The (issuer DER, serial) pairs a recipient info names."""
    out: set[tuple[bytes, int]] = set()
    if ri.name == "ktri":
        rid = ri.chosen["rid"]
        if rid.name == "issuer_and_serial_number":
            ias = rid.chosen
            out.add((bytes(ias["issuer"].dump()), int(ias["serial_number"].native)))
    elif ri.name == "kari":
        for rek in ri.chosen["recipient_encrypted_keys"]:
            if rek["rid"].name == "issuer_and_serial_number":
                ias = rek["rid"].chosen
                out.add((bytes(ias["issuer"].dump()), int(ias["serial_number"].native)))
    return out


def unwrap(ri: cms.RecipientInfo, mine: Recipient, origin: str) -> bytes:
    wrong = err(
        origin,
        f"names this node's certificate {mine.cert.name!r} but its key does not open it (the "
        "key is not that certificate's, or the envelope was altered)",
        "envelope.key",
    )
    family = crypto.key_family(mine.cert.spki)
    algo = ri.chosen["key_encryption_algorithm"]
    oid = algo["algorithm"].dotted
    if ri.name == "ktri" and family == "rsa":
        if oid != RSAES_OAEP:
            raise err(
                origin,
                f"wraps its key with {oid}; expected RSAES-OAEP (PKCS #1 v1.5 is not accepted)",
                "envelope.algorithm",
            )
        params = algo["parameters"]
        digest = params["hash_algorithm"]["algorithm"].native
        mgf = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
        if digest not in HASHES or mgf != digest:
            raise err(
                origin,
                f"uses OAEP with {digest}/{mgf}; expected SHA-256, -384 or -512 for both",
                "envelope.algorithm",
            )
        try:
            return bytes(
                mine.key.key.decrypt(bytes(ri.chosen["encrypted_key"].native), _oaep(digest))
            )
        except ValueError:
            raise wrong from None
    if ri.name == "ktri" and family == "sm2":
        if oid not in SM2_KEY_OIDS:
            raise err(origin, f"wraps its key with {oid}; expected SM2", "envelope.algorithm")
        try:
            return sm2cipher.decrypt(mine.key.key, bytes(ri.chosen["encrypted_key"].native))
        except sm2cipher.Sm2Error:
            raise wrong from None
    if ri.name == "kari" and family == "ecdsa":
        return _agree(ri.chosen, mine, origin, wrong)
    raise err(origin, f"uses a {ri.name} recipient info for a {family} key", "envelope.algorithm")


def _agree(
    kari: cms.KeyAgreeRecipientInfo, mine: Recipient, origin: str, wrong: InputError
) -> bytes:
    algo = kari["key_encryption_algorithm"]
    digest = ECDH_KDF.get(algo["algorithm"].dotted)
    wrap = cms.KeyEncryptionAlgorithm.load(algo["parameters"].dump())
    size = AES_WRAP.get(wrap["algorithm"].dotted)
    if digest is None or size is None:
        raise err(
            origin,
            f"agrees its key with {algo['algorithm'].dotted} and "
            f"{wrap['algorithm'].dotted}; expected dhSinglePass-stdDH-sha256/384/512kdf "
            "with AES key wrap",
            "envelope.algorithm",
        )
    orig = kari["originator"]
    if orig.name != "originator_key":
        raise err(
            origin,
            "names its originator by certificate; expected an ephemeral key",
            "envelope.algorithm",
        )
    point = bytes(_Spki.load(orig.chosen.untag().dump())["public_key"].native)
    ours = mine.key.key
    try:
        theirs = ec.EllipticCurvePublicKey.from_encoded_point(ours.curve, point)
        ukm = kari["ukm"].native if kari["ukm"].native is not None else None
        kek = _kek(ours.exchange(ec.ECDH(), theirs), digest, wrap, size, ukm)
        for rek in kari["recipient_encrypted_keys"]:
            return keywrap.aes_key_unwrap(kek, bytes(rek["encrypted_key"].native))
    except (ValueError, keywrap.InvalidUnwrap):
        raise wrong from None
    raise wrong
