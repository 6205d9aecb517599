"""Signature and digest primitives for packages: RSA and ECDSA through pyca/cryptography,
SM2 and SM3 through tongsuopy (the Tongsuo C library).  Only allowed algorithms exist here:
SHA-256/384/512 and SM3 digests; RSA ≥ 2048 bits (PKCS #1 v1.5), ECDSA on P-256/P-384,
SM2 with SM3 and the default distinguishing ID 1234567812345678 (GB/T 32918, GM/T 0009).
Anything else raises AlgorithmError, so a verifier fails closed on what it does not know.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from asn1crypto import keys as akeys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from tongsuopy.crypto import hashes as ts_hashes
from tongsuopy.crypto import serialization as ts_serialization
from tongsuopy.crypto.asymciphers import ec as ts_ec
from tongsuopy.crypto.exceptions import InvalidSignature as TsInvalidSignature

from hub.errors import HubError

# object identifiers
SHA256, SHA384, SHA512, SM3 = (
    "2.16.840.1.101.3.4.2.1",
    "2.16.840.1.101.3.4.2.2",
    "2.16.840.1.101.3.4.2.3",
    "1.2.156.10197.1.401",
)
SHA1_OIDS = {"1.3.14.3.2.26", "1.2.840.113549.1.1.5", "1.2.840.10045.4.1"}
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSA_WITH = {
    "1.2.840.113549.1.1.11": SHA256,
    "1.2.840.113549.1.1.12": SHA384,
    "1.2.840.113549.1.1.13": SHA512,
}
ECDSA_WITH = {
    "1.2.840.10045.4.3.2": SHA256,
    "1.2.840.10045.4.3.3": SHA384,
    "1.2.840.10045.4.3.4": SHA512,
}
SM2_WITH_SM3 = "1.2.156.10197.1.501"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
SM2_CURVE = "1.2.156.10197.1.301"
EC_CURVES = {"1.2.840.10045.3.1.7", "1.3.132.0.34"}  # P-256, P-384
DIGEST_NAMES = {SHA256: "sha256", SHA384: "sha384", SHA512: "sha512", SM3: "sm3"}
DIGEST_OIDS = {v: k for k, v in DIGEST_NAMES.items()}
MIN_RSA_BITS = 2048
SM2_DEFAULT_ID = b"1234567812345678"  # what tongsuopy and `openssl -pkeyopt distid:` use


class AlgorithmError(HubError):
    """An algorithm, key size or curve that this hub does not accept."""


class BadSignature(HubError):
    """A signature that does not verify."""


def digest(name: str, data: bytes) -> bytes:
    if name == "sm3":
        h = ts_hashes.Hash(ts_hashes.SM3())
        h.update(data)
        return bytes(h.finalize())
    if name in ("sha256", "sha384", "sha512"):
        return hashlib.new(name, data).digest()
    raise AlgorithmError(f"digest {name!r} is not allowed; expected sha256, sha384, sha512 or sm3")


def digest_name(oid: str) -> str:
    if oid in SHA1_OIDS:
        raise AlgorithmError("SHA-1 is not allowed (digest 1.3.14.3.2.26)")
    try:
        return DIGEST_NAMES[oid]
    except KeyError:
        raise AlgorithmError(f"digest algorithm {oid} is not allowed") from None


def _hash(name: str) -> hashes.HashAlgorithm:
    return {"sha256": hashes.SHA256(), "sha384": hashes.SHA384(), "sha512": hashes.SHA512()}[name]


def key_family(spki_der: bytes) -> str:
    """'rsa', 'ecdsa' or 'sm2' from a SubjectPublicKeyInfo; anything else is refused."""
    info = akeys.PublicKeyInfo.load(spki_der)
    algo = info["algorithm"]["algorithm"].dotted
    if algo == RSA_ENCRYPTION:
        bits = info["public_key"].parsed["modulus"].native.bit_length()
        if bits < MIN_RSA_BITS:
            raise AlgorithmError(f"RSA key of {bits} bits; at least {MIN_RSA_BITS} required")
        return "rsa"
    if algo == EC_PUBLIC_KEY:
        params = info["algorithm"]["parameters"]
        curve = params.chosen.dotted if params.name == "named" else None
        if curve == SM2_CURVE:
            return "sm2"
        if curve in EC_CURVES:
            return "ecdsa"
        raise AlgorithmError(f"elliptic curve {curve} is not allowed; expected P-256, P-384, SM2")
    raise AlgorithmError(f"public key algorithm {algo} is not allowed")


def verify(spki_der: bytes, sig_oid: str, digest_oid: str | None, sig: bytes, data: bytes) -> None:
    """Verify ``sig`` over ``data``; ``digest_oid`` is used when ``sig_oid`` names the key
    algorithm only (rsaEncryption, as OpenSSL writes in CMS).  Raises BadSignature."""
    if sig_oid in SHA1_OIDS or digest_oid in SHA1_OIDS:
        raise AlgorithmError("SHA-1 signatures are not allowed")
    try:
        family = key_family(spki_der)
    except AlgorithmError:
        raise
    except Exception as exc:  # a public key that does not even parse
        raise BadSignature(f"the signer's public key cannot be read: {exc}") from exc
    try:
        if family == "sm2":
            if sig_oid not in (SM2_WITH_SM3, EC_PUBLIC_KEY) or digest_oid not in (None, SM3):
                raise AlgorithmError(f"an SM2 key signs with SM2-SM3 only, not {sig_oid}")
            pub: Any = ts_serialization.load_der_public_key(spki_der)
            pub.verify(sig, data, ts_ec.ECDSA(ts_hashes.SM3()))
            return
        key: Any = serialization.load_der_public_key(spki_der)
        if family == "rsa":
            dg = RSA_WITH.get(sig_oid) or (digest_oid if sig_oid == RSA_ENCRYPTION else None)
            if dg not in DIGEST_NAMES or dg == SM3:
                raise AlgorithmError(f"signature algorithm {sig_oid} is not allowed for RSA")
            key.verify(sig, data, padding.PKCS1v15(), _hash(DIGEST_NAMES[dg]))
            return
        dg = ECDSA_WITH.get(sig_oid)
        if dg is None:
            raise AlgorithmError(f"signature algorithm {sig_oid} is not allowed for ECDSA")
        key.verify(sig, data, ec.ECDSA(_hash(DIGEST_NAMES[dg])))
    except (InvalidSignature, TsInvalidSignature) as exc:
        raise BadSignature("the signature does not verify") from exc
    except AlgorithmError:
        raise
    except Exception as exc:  # malformed key or signature; the C libraries' own errors
        raise BadSignature(f"the signature cannot be checked: {exc}") from exc


@dataclass(frozen=True)
class PrivateKey:
    """A signing key of one of the three families, with what a signature names."""

    family: str
    key: Any

    @property
    def digest(self) -> str:
        return "sm3" if self.family == "sm2" else "sha256"

    @property
    def signature_oid(self) -> str:
        return {
            "sm2": SM2_WITH_SM3,
            "rsa": "1.2.840.113549.1.1.11",
            "ecdsa": "1.2.840.10045.4.3.2",
        }[self.family]

    def sign(self, data: bytes) -> bytes:
        if self.family == "sm2":
            return bytes(self.key.sign(data, ts_ec.ECDSA(ts_hashes.SM3())))
        if self.family == "rsa":
            return bytes(self.key.sign(data, padding.PKCS1v15(), hashes.SHA256()))
        return bytes(self.key.sign(data, ec.ECDSA(hashes.SHA256())))

    def public_der(self) -> bytes:
        pub = self.key.public_key()
        if self.family == "sm2":
            return bytes(
                pub.public_bytes(
                    ts_serialization.Encoding.DER,
                    ts_serialization.PublicFormat.SubjectPublicKeyInfo,
                )
            )
        return bytes(
            pub.public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

    def pem(self) -> bytes:
        mod: Any = ts_serialization if self.family == "sm2" else serialization
        return bytes(
            self.key.private_bytes(mod.Encoding.PEM, mod.PrivateFormat.PKCS8, mod.NoEncryption())
        )


def generate(family: str) -> PrivateKey:
    if family == "rsa":
        return PrivateKey("rsa", rsa.generate_private_key(65537, 2048))
    if family == "ecdsa":
        return PrivateKey("ecdsa", ec.generate_private_key(ec.SECP256R1()))
    if family == "sm2":
        return PrivateKey("sm2", ts_ec.generate_private_key(ts_ec.SM2()))
    raise AlgorithmError(f"key family {family!r}; expected rsa, ecdsa or sm2")


def load_private_key(data: bytes, password: bytes | None = None) -> PrivateKey:
    """A PEM (PKCS #8 or traditional) key of any family, or a PKCS #12 bundle (RSA/ECDSA)."""
    if not data.lstrip().startswith(b"-----"):
        key, _, _ = pkcs12.load_key_and_certificates(data, password)
        if key is None:
            raise AlgorithmError("the PKCS #12 bundle holds no private key")
        return _wrap(key)
    try:
        return _wrap(serialization.load_pem_private_key(data, password))
    except Exception:
        sm2 = ts_serialization.load_pem_private_key(data, password)
        return PrivateKey("sm2", sm2)


def _wrap(key: Any) -> PrivateKey:
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < MIN_RSA_BITS:
            raise AlgorithmError(f"RSA key of {key.key_size} bits; at least {MIN_RSA_BITS}")
        return PrivateKey("rsa", key)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return PrivateKey("ecdsa", key)
    raise AlgorithmError(f"{type(key).__name__} keys cannot sign packages")
