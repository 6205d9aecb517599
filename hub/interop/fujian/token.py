"""The ``validation`` argument of Fujian's V4 service: who sends, and a token that proves it.

    <DATA><TOKEN>base64</TOKEN><SYSTEM_NO>9120</SYSTEM_NO></DATA>

TOKEN is DES-CBC (key and IV both the 8-character secret Fujian issued to the system,
PKCS #7 padding) of ``SYSTEM_NO + yyyyMMddHHmmss + MD5(SYSTEM_NO)`` (upper-case hex), Base64;
the Fujian hub accepts it for 12 hours either side of its time (DataOperator.ValidateToken
and the test client in repository lishanling/GGZY).  Here a token must also decrypt to a
text that starts with the SYSTEM_NO it came with.

Single DES is what the county systems already send; it authenticates weakly (a 56-bit key).
Put the endpoint behind TLS and an address allowlist (docs/interop.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from hub.errors import HubError
from hub.validation.decode import parse_xml
from hub.validation.guards import CST

STAMP = "%Y%m%d%H%M%S"


class TokenError(HubError):
    """The validation is refused; the message says why, in the words the Fujian hub uses."""


@dataclass(frozen=True)
class Caller:
    system_no: str
    issued: datetime


def _des(secret: str) -> Cipher[modes.CBC]:
    key = secret.encode("ascii")
    if len(key) != 8:
        raise TokenError("the system's secret must be 8 ASCII characters (a DES key)")
    return Cipher(TripleDES(key * 3), modes.CBC(key))  # EDE with one key: single DES


def make(system_no: str, secret: str, when: datetime) -> str:
    """A token as a Fujian county system makes it (for tests and the upstream client)."""
    text = system_no + when.astimezone(CST).strftime(STAMP)
    text += hashlib.md5(system_no.encode(), usedforsecurity=False).hexdigest().upper()
    pad = padding.PKCS7(64).padder()
    enc = _des(secret).encryptor()
    data = pad.update(text.encode()) + pad.finalize()
    return base64.b64encode(enc.update(data) + enc.finalize()).decode()


def validation(system_no: str, secret: str, when: datetime) -> str:
    tok = make(system_no, secret, when)
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        f"<DATA><TOKEN>{tok}</TOKEN><SYSTEM_NO>{system_no}</SYSTEM_NO></DATA>"
    )


def system_of(validation_xml: str) -> tuple[str, str]:
    """(SYSTEM_NO, TOKEN) of a validation document."""
    try:
        root = parse_xml(validation_xml.encode("utf-8"), "validation").getroot()
    except HubError as exc:
        raise TokenError(f"validation is not XML: {exc}") from exc
    values = {
        c.tag.upper(): (c.text or "").strip()
        for c in root.iter()
        if isinstance(c.tag, str) and c is not root
    }
    system_no = values.get("SYSTEM_NO", "")
    if not system_no:
        raise TokenError("SYSTEM_NO获取失败 (validation has no SYSTEM_NO)")
    return system_no, values.get("TOKEN", "")


def check(token: str, system_no: str, secret: str, now: datetime, hours: float) -> Caller:
    """The caller a token proves, or TokenError."""
    try:
        raw = base64.b64decode(token, validate=True)
        dec = _des(secret).decryptor()
        unpad = padding.PKCS7(64).unpadder()
        text = (unpad.update(dec.update(raw) + dec.finalize()) + unpad.finalize()).decode()
        issued = datetime.strptime(text[len(system_no) : len(system_no) + 14], STAMP)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise TokenError("TOKEN无效 (the token does not decrypt with this system's key)") from None
    if not text.startswith(system_no):
        raise TokenError("TOKEN无效 (the token was made for another SYSTEM_NO)")
    when = issued.replace(tzinfo=CST)
    if abs(now - when) > timedelta(hours=hours):
        raise TokenError(
            f"TOKEN过期 (the token was made at {issued:%Y-%m-%d %H:%M:%S}, more than {hours:g} "
            "hours from now: make a new one)"
        )
    return Caller(system_no, when)
