"""Write generated (or any enveloped) records as XML, JSON or JSONL batch files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from lxml import etree

import hub


def xml_bytes(records: list[dict[str, Any]]) -> bytes:
    lines = [
        b'<?xml version="1.0" encoding="UTF-8"?>',
        f'<BATCH specVersion="{hub.SPEC_VERSION}">'.encode(),
    ]
    for r in records:
        el = etree.Element(r["dataset"])
        if r.get("op"):
            el.set("op", r["op"])
        if r.get("key"):
            el.set("key", r["key"])
        for k, v in r["record"].items():
            etree.SubElement(el, k).text = v
        lines.append(etree.tostring(el, encoding="UTF-8"))
    lines.append(b"</BATCH>\n")
    return b"\n".join(lines)


def jsonl_bytes(records: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(r) + b"\n" for r in records)


def json_bytes(records: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(
        {"spec_version": hub.SPEC_VERSION, "records": records}, option=orjson.OPT_INDENT_2
    )


def write_batch(records: list[dict[str, Any]], path: Path, fmt: str) -> int:
    data = {"xml": xml_bytes, "jsonl": jsonl_bytes, "json": json_bytes}[fmt](records)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return len(records)
