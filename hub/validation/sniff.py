"""Which batch format an input is, and whether it is the format it claims to be.

A format named by ``--input-format`` or by the file's extension must fit the first bytes: a
file that says JSONL and starts with ``<`` is refused whole (``input.format``) rather than
quarantined line by line; so is a source system's own export (CSV, often GBK) given without
its mapping.
"""

from __future__ import annotations

import json
from pathlib import Path

from hub.errors import InputError

FORMATS = ("xml", "json", "jsonl")
_EXTENSIONS = {"xml": "xml", "json": "json", "jsonl": "jsonl", "ndjson": "jsonl"}
_STARTS = {"xml": (b"<",), "json": (b"{", b"["), "jsonl": (b"{",)}
_NAMES = {"xml": "an XML", "json": "a JSON", "jsonl": "a JSONL"}
UTF8_BOM = b"\xef\xbb\xbf"  # a Windows exporter's first bytes (RFC 8259 §8.1: may be ignored)
_BOMS = (UTF8_BOM, b"\xff\xfe", b"\xfe\xff")


def format_of_name(path: Path) -> str | None:
    return _EXTENSIONS.get(path.suffix.lower().lstrip("."))


def _looks_like(head: bytes) -> str:
    first = head[:1]
    if first == b"<":
        return "XML"
    if first in (b"{", b"["):
        return "JSON"
    try:
        text = head[:4096].decode("utf-8")
    except UnicodeDecodeError:
        return "text that is not UTF-8 (GBK?)"
    line = text.split("\n", 1)[0]
    if any(sep in line for sep in (",", "\t", "|")):
        return "a delimited export (CSV)"
    return f"neither XML nor JSON (first byte {first!r})"


def detect_format(path: Path, data: bytes, declared: str | None = None) -> str:
    """The batch format of ``data`` (the first bytes suffice): ``declared``, else the file
    name's, else sniffed; raise InputError when the content does not fit that format."""
    head = data
    for bom in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    head = head.lstrip()
    fmt = declared or format_of_name(path)
    if not head:
        return fmt or "jsonl"  # an empty batch: zero records, in any format
    if fmt is None:
        fmt = {b"<": "xml", b"[": "json"}.get(head[:1])
        if fmt is None and head[:1] == b"{":
            try:
                json.loads(head.split(b"\n", 1)[0])
                fmt = "jsonl"
            except ValueError:
                fmt = "json"
    if fmt is not None and head.startswith(_STARTS[fmt]):
        return fmt
    seen = _looks_like(head)
    how = "declared" if declared else f"named {path.suffix or '(no extension)'}"
    if fmt is None or seen.startswith(("a delimited", "text that", "neither")):
        advice = (
            "a source system's own export is read through its mapping: "
            "add --mapping MAPPING.toml (see docs/mapping.md)"
        )
    else:
        named = "xml" if seen == "XML" else "json or jsonl"
        advice = f"give --input-format {named}, or leave it out to detect the format"
    expected = f"{_NAMES[fmt]} batch ({how})" if fmt else "an XML, JSON or JSONL batch"
    raise InputError(str(path), f"is {seen}, expected {expected}; {advice}", code="input.format")
