"""Envelopes written and read as streams: raw batches and packages kept sealed at rest.

The same CMS as a sealed package (AuthEnvelopedData with AES-256-GCM for RSA and ECDSA node
certificates, EnvelopedData with SM4-CBC for SM2 ones) in BER with indefinite lengths, so a
batch of any size is sealed and read in chunks without being held in memory:

    30 80  06 <oid>  a0 80  30 80  version  recipientInfos
                                   30 80  06 <data>  <algorithm>  a0 80  04 len chunk ... 00 00
                                   00 00  [04 10 mac]
                     00 00  00 00  00 00

OpenSSL reads it as any CMS file (``openssl cms -decrypt -inform DER -in F -inkey K``).  A
reader hands out plaintext as it decrypts; the GCM tag is checked at the end, so a stream
whose bytes were altered fails with ``envelope.corrupt`` when it is read to its end.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import BinaryIO

from asn1crypto import algos, cms, core
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher as AesCipher
from cryptography.hazmat.primitives.ciphers import algorithms as aes
from cryptography.hazmat.primitives.ciphers import modes as aes_modes
from tongsuopy.crypto.ciphers import Cipher, algorithms, modes

from hub.errors import InputError
from hub.package.envelope import (
    AES256_GCM,
    AUTH_ENVELOPED,
    DATA,
    ENVELOPED,
    SM4_CBC,
    GcmParameters,
)
from hub.package.pki import Cert
from hub.package.recipients import EnvelopeError, Recipient, content_key, family_of, recipient_info

EOC = b"\x00\x00"
CHUNK = 1 << 20


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _length(len(body)) + body


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


class SealingWriter:
    """Writes an envelope to ``out`` as plaintext is given to ``write``; ``close`` ends it."""

    def __init__(self, out: BinaryIO, certs: Sequence[Cert]) -> None:
        if not certs:
            raise EnvelopeError("no certificate to seal to")
        families = {family_of(c) for c in certs}
        if len(families) > 1 and "sm2" in families:
            raise EnvelopeError("SM2 and RSA/ECDSA certificates cannot share one envelope")
        self.out, self.sm2 = out, families == {"sm2"}
        cek = os.urandom(16 if self.sm2 else 32)
        infos = cms.RecipientInfos([recipient_info(c, cek) for c in certs]).dump()
        if self.sm2:
            iv = os.urandom(16)
            params: core.Asn1Value = core.OctetString(iv)
            oid, kind = SM4_CBC, ENVELOPED
            self._enc = Cipher(algorithms.SM4(cek), modes.CBC(iv)).encryptor()
            self._pad: padding.PaddingContext | None = padding.PKCS7(128).padder()
        else:
            nonce = os.urandom(12)
            params = GcmParameters({"nonce": nonce, "icv_len": 16})
            oid, kind = AES256_GCM, AUTH_ENVELOPED
            self._enc = AesCipher(aes.AES(cek), aes_modes.GCM(nonce)).encryptor()
            self._pad = None
        algo = algos.EncryptionAlgorithm(
            {"algorithm": oid, "parameters": core.Any.load(params.dump())}
        ).dump()
        out.write(b"\x30\x80" + core.ObjectIdentifier(kind).dump() + b"\xa0\x80\x30\x80")
        out.write(b"\x02\x01\x00" + infos)
        out.write(b"\x30\x80" + core.ObjectIdentifier(DATA).dump() + algo + b"\xa0\x80")

    def write(self, block: bytes) -> None:
        if self._pad is not None:
            block = self._pad.update(block)
        self._chunk(self._enc.update(block))

    def _chunk(self, ct: bytes) -> None:
        if ct:
            self.out.write(_tlv(0x04, ct))

    def close(self) -> None:
        if self._pad is not None:
            self._chunk(self._enc.update(self._pad.finalize()))
        self._chunk(self._enc.finalize())
        self.out.write(EOC + EOC)  # the content's chunks, the EncryptedContentInfo
        if not self.sm2:
            self.out.write(_tlv(0x04, self._enc.tag))
        self.out.write(EOC * 3)


class _Reader:
    """A minimal BER reader over a stream: just what SealingWriter writes."""

    def __init__(self, fh: BinaryIO, origin: str) -> None:
        self.fh, self.origin = fh, origin

    def fail(self, what: str) -> InputError:
        text = f"is not a sealed object as the hub writes it: {what}"
        return InputError(self.origin, text, code="envelope.malformed")

    def take(self, n: int) -> bytes:
        b = self.fh.read(n)
        if len(b) != n:
            raise self.fail("it ends early")
        return b

    def head(self) -> tuple[int, int | None]:
        tag, first = self.take(1)[0], self.take(1)[0]
        if first == 0x80:
            return tag, None
        if first < 0x80:
            return tag, first
        size = first & 0x7F
        if size > 8:
            raise self.fail("a length of more than 8 bytes")
        return tag, int.from_bytes(self.take(size), "big")

    def expect(self, tag: int, indefinite: bool) -> int | None:
        t, n = self.head()
        if t != tag or (n is None) != indefinite:
            raise self.fail(f"tag {t:#x} where {tag:#x} was expected")
        return n

    def whole(self, tag: int) -> bytes:
        """A definite-length element, header and all."""
        n = self.expect(tag, False)
        assert n is not None
        return _tlv(tag, self.take(n))


class OpenedStream(io.RawIOBase):
    """The plaintext of a sealed stream, decrypted as it is read."""

    def __init__(self, fh: BinaryIO, origin: str, mine: Sequence[Recipient]) -> None:
        self._r, self._fh = _Reader(fh, origin), fh
        r = self._r
        r.expect(0x30, True)
        kind = core.ObjectIdentifier.load(r.whole(0x06)).dotted
        if kind not in (ENVELOPED, AUTH_ENVELOPED):
            raise r.fail(f"content type {kind}")
        r.expect(0xA0, True)
        r.expect(0x30, True)
        r.whole(0x02)
        infos = list(cms.RecipientInfos.load(r.whole(0x31)))
        cek, _cert = content_key(infos, mine, origin)
        r.expect(0x30, True)
        r.whole(0x06)
        algo = algos.EncryptionAlgorithm.load(r.whole(0x30))
        params = algo["parameters"].dump()
        self._auth = kind == AUTH_ENVELOPED
        if self._auth and algo["algorithm"].dotted == AES256_GCM:
            nonce = bytes(GcmParameters.load(params)["nonce"].native)
            self._dec = AesCipher(aes.AES(cek), aes_modes.GCM(nonce)).decryptor()
            self._unpad: padding.PaddingContext | None = None
        elif not self._auth and algo["algorithm"].dotted == SM4_CBC:
            iv = bytes(core.OctetString.load(params).native)
            self._dec = Cipher(algorithms.SM4(cek), modes.CBC(iv)).decryptor()
            self._unpad = padding.PKCS7(128).unpadder()
        else:
            raise r.fail(f"content algorithm {algo['algorithm'].dotted}")
        r.expect(0xA0, True)
        self._buf, self._done = b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buf and not self._done:
            self._buf = self._next()
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def _next(self) -> bytes:
        t, n = self._r.head()
        if t == 0x04 and n is not None:
            return self._plain(self._dec.update(self._r.take(n)))
        if (t, n) != (0, 0):
            raise self._r.fail(f"tag {t:#x} among the content's chunks")
        self._done = True
        if self._r.take(2) != EOC:
            raise self._r.fail("no end of the content")
        corrupt = InputError(
            self._r.origin,
            "does not decrypt whole: the sealed bytes were altered",
            code="envelope.corrupt",
        )
        try:
            if self._auth:
                tag = self._r.whole(0x04)[2:]
                return self._dec.finalize_with_tag(tag)
            assert self._unpad is not None
            return self._unpad.update(self._dec.finalize()) + self._unpad.finalize()
        except (InvalidTag, ValueError):
            raise corrupt from None

    def _plain(self, data: bytes) -> bytes:
        return data if self._unpad is None else self._unpad.update(data)

    def close(self) -> None:
        self._fh.close()
        super().close()


def open_sealed(fh: BinaryIO, origin: str, mine: Sequence[Recipient]) -> BinaryIO:
    """A buffered reader of the plaintext sealed in ``fh`` (closed with it)."""
    return io.BufferedReader(OpenedStream(fh, origin, mine), CHUNK)


class AtRest:
    """A node's raw store sealing: what new objects are sealed to (``seal_to``; empty: they
    are written plain) and the keys that open sealed ones (current and retired)."""

    def __init__(self, seal_to: Sequence[Cert], keys: Sequence[Recipient]) -> None:
        self.seal_to, self.keys = tuple(seal_to), tuple(keys)

    def writer(self, out: BinaryIO) -> SealingWriter:
        return SealingWriter(out, self.seal_to)

    def reader(self, fh: BinaryIO, origin: str) -> BinaryIO:
        return open_sealed(fh, origin, self.keys)
