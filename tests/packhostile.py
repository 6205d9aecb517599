"""The package cases of the hostile corpus (issue 21): every attack of ``packkit.attacks`` and
those the corpus adds (names, sizes, not an archive at all, byte flips in each region of the
archive), each a function that makes the bytes a county or an attacker would send."""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

from hub.package import archive
from tests.packkit import Pki, attacks, entries, flip_in, package, raw_zip, records

# a flipped byte in each region of a canonical archive (offsets found by walking it)
REGIONS = (
    "local header",
    "entry name",
    "manifest body",
    "data body",
    "signature body",
    "central directory",
    "end of central directory",
)


def regions(data: bytes) -> dict[str, list[int]]:
    """The byte offsets of each region of a STORED archive (as ``archive.write`` makes it)."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    out: dict[str, list[int]] = {r: [] for r in REGIONS}
    for info in zf.infolist():
        at = info.header_offset
        name_len, extra_len = struct.unpack("<HH", data[at + 26 : at + 30])
        out["local header"] += range(at, at + 30)
        out["entry name"] += range(at + 30, at + 30 + name_len)
        body = at + 30 + name_len + extra_len
        kind = (
            "manifest body"
            if info.filename == "manifest.json"
            else "signature body"
            if info.filename == "signature.p7s"
            else "data body"
        )
        out[kind] += range(body, body + info.compress_size)
    eocd = data.rindex(b"PK\x05\x06")
    (cd_start,) = struct.unpack("<I", data[eocd + 16 : eocd + 20])
    out["central directory"] += range(cd_start, eocd)
    out["end of central directory"] += range(eocd, len(data))
    return out


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _non_utf8_name(good: bytes) -> bytes:
    """A data entry whose name is GBK bytes with no UTF-8 flag (a Windows zipper's habit)."""
    placeholder = "data/XXXX.jsonl"
    raw = raw_zip([*entries(good), (placeholder, b"{}\n")])
    return raw.replace(placeholder.encode(), b"data/\xca\xfd\xbe\xdd.jsonl")


def _encrypted_flag(good: bytes) -> bytes:
    """The first entry marked as encrypted (flag bit 0) in its local and central headers."""
    data = bytearray(good)
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.index(sig)
        data[at + flag_at] |= 0x01
    return bytes(data)


def more_attacks(pki: Pki) -> dict[str, Callable[[], bytes]]:
    good = package(pki.good)
    other = package(pki.good, records(1), package_id="PKG-0000000009")
    others_signature = dict(entries(other))["signature.p7s"]
    where = regions(good)
    flips = {
        f"a flipped byte in the {r}": lambda r=r: flip(good, where[r][len(where[r]) // 2])
        for r in REGIONS
    }
    tiny: list[tuple[zipfile.ZipInfo | str, bytes]] = [
        (f"data/{i:05d}", b"") for i in range(10_000)
    ]
    return {
        **flips,
        "the package itself": lambda: good,
        "not a zip at all": lambda: b"<html>502 Bad Gateway</html>\n",
        "an empty file": lambda: b"",
        "cut in half": lambda: good[: len(good) // 2],
        "bytes appended": lambda: good + b"\0" * 64,
        "bytes prepended (a polyglot)": lambda: b"MZ" + b"\0" * 62 + good,
        "absolute entry name": lambda: raw_zip([*entries(good), ("/etc/cron.d/x", b"x")]),
        "backslash entry name": lambda: raw_zip([*entries(good), ("..\\..\\evil.bat", b"x")]),
        "drive letter entry name": lambda: raw_zip([*entries(good), ("C:/Windows/evil.dll", b"x")]),
        "10,000 entries": lambda: raw_zip(tiny),
        "non-UTF-8 entry name": lambda: _non_utf8_name(good),
        "an entry flagged encrypted": lambda: _encrypted_flag(good),
        "the signature of another package": lambda: archive.write(
            [(n, others_signature if n == "signature.p7s" else b) for n, b in entries(good)]
        ),
        "a flipped byte in the signature, CRC recomputed": lambda: flip_in(good, "signature.p7s"),
    }


def every_attack(pki: Pki, tmp: Path) -> dict[str, Callable[[], bytes]]:
    """Every package case by name: ``packkit.attacks`` (their expected codes are also what
    the corpus manifest says) and the corpus's own."""
    return {**{k: make for k, (make, _) in attacks(pki, tmp).items()}, **more_attacks(pki)}
