"""Hardened decoding of batch files into records.

XML: no DTD (a DOCTYPE is refused), no entity expansion, no network, no external files,
depth and text-node limits from libxml2.  JSON: duplicate keys, NaN/Infinity, depth and
over-long integers are refused.  Whole-input problems raise InputError; a broken line of
a JSONL file is a record-level problem and is returned as such, the other lines go on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from lxml import etree

from hub.errors import InputError
from hub.validation.limits import DEFAULT_LIMITS, Limits

BATCH_ROOTS = ("BATCH",)


@dataclass
class RawRecord:
    """One record as decoded, before validation."""

    index: int  # 1-based
    dataset: str
    fields: dict[str, Any]
    op: str | None = None
    key: str | None = None
    line: int | None = None
    element: etree._Element | None = None  # XML only
    problem: str | None = None  # set when the record could not be decoded at all
    extra: dict[str, Any] = field(default_factory=dict)


def read_bytes(path: Path, limits: Limits = DEFAULT_LIMITS) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(str(path), f"cannot be read ({exc.strerror})") from exc
    if size > limits.max_input_bytes:
        raise InputError(
            str(path),
            f"is {size} bytes, over the input limit of {limits.max_input_bytes} bytes",
            code="input.too-large",
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(str(path), f"cannot be read ({exc.strerror})") from exc


def xml_parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,  # keeps libxml2's depth (256) and text-node (10 MB) limits
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


_ROOT_START = re.compile(rb"<[A-Za-z_]")


def parse_xml(data: bytes, source: str) -> etree._ElementTree:
    m = _ROOT_START.search(data)
    prolog = data[: m.start()] if m else data
    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
        raise InputError(
            source,
            "declares a DTD (<!DOCTYPE>); DTDs and entities are not accepted",
            code="xml.dtd",
        )
    try:
        tree = etree.ElementTree(etree.fromstring(data, xml_parser()))
    except etree.XMLSyntaxError as exc:
        msg = str(exc)
        code = "xml.limit" if ("depth" in msg or "huge" in msg.lower()) else "xml.syntax"
        raise InputError(source, f"is not well-formed XML: {msg}", code=code) from exc
    if getattr(tree.docinfo, "doctype", "") or tree.docinfo.internalDTD is not None:
        raise InputError(source, "declares a DTD; DTDs are not accepted", code="xml.dtd")
    return tree


def xml_records(tree: etree._ElementTree, known: frozenset[str]) -> Iterator[RawRecord]:
    root = tree.getroot()
    elements = list(root) if root.tag in BATCH_ROOTS else [root]
    for i, el in enumerate(elements, start=1):
        tag = el.tag if isinstance(el.tag, str) else ""
        fields: dict[str, Any] = {}
        problem = None
        for child in el:
            if len(child):
                problem = f"field <{child.tag}> contains elements; a field holds text only"
            fields[child.tag] = child.text or ""
        yield RawRecord(
            index=i,
            dataset=tag,
            fields=fields,
            op=el.get("op"),
            key=el.get("key"),
            line=el.sourceline if isinstance(el.sourceline, int) else None,
            element=el,
            problem=problem,
        )


_KEY_TOKEN = re.compile(rb'"\s*:')


def _count_keys(obj: Any) -> int:
    if isinstance(obj, dict):
        return len(obj) + sum(_count_keys(v) for v in obj.values())
    if isinstance(obj, list):
        return sum(_count_keys(v) for v in obj)
    return 0


def _depth(obj: Any) -> int:
    if isinstance(obj, dict):
        return 1 + max((_depth(v) for v in obj.values()), default=0)
    if isinstance(obj, list):
        return 1 + max((_depth(v) for v in obj), default=0)
    return 0


def _reject_dups(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _big_int(obj: Any, limit: int) -> bool:
    if isinstance(obj, int) and not isinstance(obj, bool):
        return len(str(abs(obj))) > limit
    if isinstance(obj, dict):
        return any(_big_int(v, limit) for v in obj.values())
    if isinstance(obj, list):
        return any(_big_int(v, limit) for v in obj)
    return False


def loads_json(text: bytes, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse one JSON text strictly; raise ValueError with the reason."""
    depth_check = text.count(b"[") + text.count(b"{") > limits.json_max_depth
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        # orjson refuses NaN/Infinity and integers past 64 bits; say it plainly
        raise ValueError(f"not valid JSON: {exc}") from exc
    if depth_check and _depth(obj) > limits.json_max_depth:
        raise ValueError(f"nested deeper than {limits.json_max_depth} levels")
    if len(_KEY_TOKEN.findall(text)) != _count_keys(obj):
        # a key token may sit inside a string; only then pay for the exact check
        json.loads(text, object_pairs_hook=_reject_dups)
    if _big_int(obj, limits.json_max_int_digits) or (
        _LONG_DIGITS.search(text) and _has_long_number(text, limits.json_max_int_digits)
    ):
        raise ValueError(f"a number has more than {limits.json_max_int_digits} integer digits")
    return obj


_LONG_DIGITS = re.compile(rb"[0-9]{31,}")


def _has_long_number(text: bytes, limit: int) -> bool:
    """Exact check (orjson turns a long integer into a float): parse numbers as text."""
    found = False

    def num(s: str) -> int:
        nonlocal found
        if len(s.lstrip("-").split(".")[0].split("e")[0].split("E")[0]) > limit:
            found = True
        return 0

    json.loads(text, parse_int=num, parse_float=num)
    return found


def _envelope(obj: Any, index: int, line: int | None) -> RawRecord:
    if not isinstance(obj, dict):
        return RawRecord(
            index,
            "",
            {},
            line=line,
            problem='a record must be a JSON object {"dataset": ..., "record": {...}}',
        )
    rec = obj.get("record")
    dataset = obj.get("dataset")
    extra = {k: v for k, v in obj.items() if k not in ("dataset", "op", "key", "record")}
    problem = None
    if not isinstance(dataset, str):
        problem = 'the record has no "dataset" string'
        dataset = ""
    elif not isinstance(rec, dict):
        problem = 'the record has no "record" object'
        rec = {}
    elif extra:
        problem = f"unexpected envelope keys {sorted(extra)}; expected dataset, op, key, record"
    op, key = obj.get("op"), obj.get("key")
    return RawRecord(
        index=index,
        dataset=dataset,
        fields=rec if isinstance(rec, dict) else {},
        op=op if isinstance(op, str) else None,
        key=key if isinstance(key, str) else None,
        line=line,
        problem=problem,
        extra=extra,
    )


def jsonl_records(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Iterator[RawRecord]:
    index = 0
    for lineno, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        index += 1
        try:
            obj = loads_json(line, limits)
        except (ValueError, RecursionError) as exc:
            yield RawRecord(index, "", {}, line=lineno, problem=f"line {lineno}: {exc}")
            continue
        yield _envelope(obj, index, lineno)


def json_records(data: bytes, source: str, limits: Limits = DEFAULT_LIMITS) -> Iterator[RawRecord]:
    try:
        doc = loads_json(data, limits)
    except (ValueError, RecursionError) as exc:
        raise InputError(source, str(exc), code="json.syntax") from exc
    if isinstance(doc, dict) and "records" in doc:
        items = doc["records"]
    elif isinstance(doc, list):
        items = doc
    else:
        raise InputError(
            source, 'expected a JSON array of records or {"records": [...]}', code="json.shape"
        )
    if not isinstance(items, list):
        raise InputError(source, '"records" must be an array', code="json.shape")
    for i, obj in enumerate(items, start=1):
        yield _envelope(obj, i, None)
