"""SM2 public-key encryption (GB/T 32918.4) through the Tongsuo C library that tongsuopy
loads: the ciphertext is GM/T 0009's ASN.1 ``SEQUENCE {x, y, C3 hash, C2 ciphertext}``, the
form OpenSSL 3 and Tongsuo read (``openssl pkeyutl -decrypt -inkey sm2.key``).

tongsuopy's public API signs and verifies with SM2 but does not encrypt, so this calls
``EVP_PKEY_encrypt``/``EVP_PKEY_decrypt`` through its cffi binding: the same library, no
cipher written here.  Only used to wrap a 16-byte SM4 content key.
"""

from __future__ import annotations

from typing import Any

from tongsuopy.backends.tongsuo.backend import backend
from tongsuopy.crypto import serialization as ts_serialization

from hub.errors import HubError


class Sm2Error(HubError):
    """SM2 encryption or decryption failed (for decryption: not this key, or corrupted)."""


def _run(evp_pkey: Any, data: bytes, encrypt: bool) -> bytes:
    lib, ffi = backend._lib, backend._ffi
    ctx = lib.EVP_PKEY_CTX_new(evp_pkey, ffi.NULL)
    if ctx == ffi.NULL:
        raise Sm2Error("the SM2 key cannot be used by Tongsuo")
    ctx = ffi.gc(ctx, lib.EVP_PKEY_CTX_free)
    init = lib.EVP_PKEY_encrypt_init if encrypt else lib.EVP_PKEY_decrypt_init
    call = lib.EVP_PKEY_encrypt if encrypt else lib.EVP_PKEY_decrypt
    size = ffi.new("size_t *")
    if init(ctx) != 1 or call(ctx, ffi.NULL, size, data, len(data)) != 1:
        backend._consume_errors()
        raise Sm2Error("SM2 " + ("encryption" if encrypt else "decryption") + " is refused")
    out = ffi.new("unsigned char[]", size[0])
    if call(ctx, out, size, data, len(data)) != 1:
        backend._consume_errors()
        raise Sm2Error("SM2 " + ("encryption" if encrypt else "decryption") + " failed")
    return bytes(ffi.buffer(out, size[0]))


def encrypt(spki_der: bytes, data: bytes) -> bytes:
    """``data`` encrypted to the SM2 public key in ``spki_der`` (SubjectPublicKeyInfo)."""
    pub = ts_serialization.load_der_public_key(spki_der)
    return _run(pub._evp_pkey, data, True)


def decrypt(private_key: Any, ciphertext: bytes) -> bytes:
    """``ciphertext`` decrypted with a tongsuopy SM2 private key."""
    return _run(private_key._evp_pkey, ciphertext, False)
