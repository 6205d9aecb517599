"""The package archive: a ZIP in one canonical layout, read with limits before anything else.

Canonical means: entries STORED (no compression), every timestamp 1980-01-01 00:00, mode
0644 regular files, no extra fields, no comments, in the order written.  A reader rebuilds
the canonical bytes from the names and contents it read and refuses any difference, so no
byte of an accepted archive is outside what the signature and digests cover.  Limits
(design §8): entries, total size, compression ratio; names without absolute paths, ``..``,
backslashes or links; no duplicates.
"""

from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import dataclass

from hub.errors import InputError

EPOCH = (1980, 1, 1, 0, 0, 0)
# what zipfile raises on a damaged or unusual archive (NotImplementedError: an unsupported
# compression method or encryption scheme; RuntimeError: an encrypted entry)
_ZIP_ERRORS = (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError)


@dataclass(frozen=True)
class Limits:
    max_entries: int = 1000
    max_total_bytes: int = 200 * 1024 * 1024
    max_ratio: int = 10


def write(entries: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, EPOCH)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 3
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            zf.writestr(info, data)
    return buf.getvalue()


def _refuse(origin: str, code: str, reason: str) -> InputError:
    return InputError(origin, reason, code=code)


def read(data: bytes, origin: str, limits: Limits | None = None) -> list[tuple[str, bytes]]:
    """The entries of a canonical package archive; InputError with a reason code otherwise."""
    lim = limits or Limits()
    if len(data) > lim.max_total_bytes:
        raise _refuse(
            origin, "archive.too_large", f"{len(data)} bytes; at most {lim.max_total_bytes}"
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except _ZIP_ERRORS as exc:
        raise _refuse(origin, "archive.unreadable", f"not a readable ZIP archive ({exc})") from exc
    if len(infos) > lim.max_entries:
        raise _refuse(
            origin, "archive.too_many_entries", f"{len(infos)} entries; at most {lim.max_entries}"
        )
    total = sum(i.file_size for i in infos)
    if total > lim.max_total_bytes:
        raise _refuse(
            origin, "archive.too_large", f"{total} bytes unpacked; at most {lim.max_total_bytes}"
        )
    seen: set[str] = set()
    for i in infos:
        if i.file_size > lim.max_ratio * max(i.compress_size, 1) and i.file_size > 1024:
            raise _refuse(
                origin,
                "archive.bomb",
                f"entry {i.filename!r} unpacks {i.file_size} bytes from {i.compress_size}: "
                f"more than {lim.max_ratio}x",
            )
        name = i.filename
        parts = name.split("/")
        if (
            not name
            or name.startswith("/")
            or "\\" in name
            or (len(name) > 1 and name[1] == ":")
            or any(p in ("", ".", "..") for p in parts)
        ):
            raise _refuse(
                origin, "archive.path", f"entry name {name!r} is not a plain relative path"
            )
        if stat.S_ISLNK(i.external_attr >> 16):
            raise _refuse(origin, "archive.link", f"entry {name!r} is a symbolic link")
        if name in seen:
            raise _refuse(origin, "archive.duplicate", f"entry {name!r} appears twice")
        seen.add(name)
        if i.flag_bits & ~0x800:  # encryption, data descriptors, …: only the UTF-8 flag
            raise _refuse(
                origin, "archive.noncanonical", f"entry {name!r} has flags {i.flag_bits:#x}"
            )
        if i.compress_type != zipfile.ZIP_STORED:
            raise _refuse(
                origin, "archive.method", f"entry {name!r} is compressed; expected STORED"
            )
    try:
        entries = [(i.filename, zf.read(i)) for i in infos]
    except _ZIP_ERRORS as exc:
        raise _refuse(origin, "archive.unreadable", f"an entry cannot be read ({exc})") from exc
    if write(entries) != data:
        raise _refuse(
            origin,
            "archive.noncanonical",
            "the archive's layout differs from the canonical one (timestamps, modes, extra "
            "fields, comments or padding); see docs/package-format.md",
        )
    return entries
