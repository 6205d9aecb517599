"""Hardened decoding of batch files into records.

XML: no DTD (a DOCTYPE is refused), no entity expansion, no network, no external files,
depth and text-node limits from libxml2.  JSON: duplicate keys, NaN/Infinity, depth and
over-long integers are refused.  Whole-input problems raise InputError; a broken line of
a JSONL file is a record-level problem and is returned as such, the other lines go on.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from lxml import etree

from hub.errors import InputError
from hub.validation.limits import DEFAULT_LIMITS, Limits
from hub.validation.sniff import UTF8_BOM

BATCH_ROOTS = ("BATCH",)


@dataclass(slots=True)
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
    extra: dict[str, Any] | None = None  # envelope keys besides dataset, op, key, record
    text: bytes | None = None  # the record as received (JSONL line; XML element if failed)
    envelope: str | None = None  # an op or key that is not a string: what it is instead


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
        if "depth" in msg or "huge" in msg.lower():
            what = re.split(r", (?:use|try) ", msg, maxsplit=1)[0]  # not libxml2's advice
            raise InputError(
                source,
                f"is beyond what the hub reads ({what}): at "
                "most 256 levels of nesting and 10 MB of text in one node. A record's fields "
                "are plain text one level below it; have the exporter send that",
                code="xml.limit",
            ) from exc
        raise InputError(source, f"is not well-formed XML: {msg}", code="xml.syntax") from exc
    if getattr(tree.docinfo, "doctype", "") or tree.docinfo.internalDTD is not None:
        raise InputError(source, "declares a DTD; DTDs are not accepted", code="xml.dtd")
    return tree


def xml_records(
    tree: etree._ElementTree, known: frozenset[str], offset: int = 0
) -> Iterator[RawRecord]:
    """The records of a document (numbered from ``offset + 1``: a chunk of a batch)."""
    root = tree.getroot()
    elements = list(root) if root.tag in BATCH_ROOTS else [root]
    for i, el in enumerate(elements, start=offset + 1):
        tag = el.tag if isinstance(el.tag, str) else ""
        line = el.sourceline
        yield RawRecord(
            i,
            tag,
            {c.tag: c.text or "" for c in el},
            el.get("op"),
            el.get("key"),
            line if isinstance(line, int) else None,
            el,
        )


def nested_field_problem(el: etree._Element) -> str | None:
    """A field element with element children (the XSD refuses it; this says it plainly)."""
    for child in el:
        if len(child):
            return f"field <{child.tag}> contains elements; a field holds text only"
    return None


_JSON_SPACE = b" \t\r\n"
# every byte to " " except the digits: a run of digits becomes a run of "0"
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_CONTAINERS = (dict, list)


def _shape(obj: Any) -> tuple[int, int]:
    """(number of object keys, nesting depth) in one pass that only descends into containers."""
    values: Iterable[Any]
    if isinstance(obj, dict):
        keys, depth, values = len(obj), 0, obj.values()
    elif isinstance(obj, list):
        keys, depth, values = 0, 0, obj
    else:
        return 0, 0
    for v in [v for v in values if isinstance(v, _CONTAINERS)]:
        k, d = _shape(v)
        keys += k
        depth = max(depth, d)
    return keys, depth + 1


def reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def loads_json(text: bytes, limits: Limits = DEFAULT_LIMITS, long_digits: bool = True) -> Any:
    """Parse one JSON text strictly; raise ValueError with the reason.

    orjson does the parsing; the strict checks cost little on the common path: a key-token
    count against the parsed key count (only a mismatch, e.g. a duplicate key or a ``":``
    inside a string, pays for an exact stdlib parse), and a digit-run scan (orjson returns
    integers past 64 bits as floats, so only a long run of digits pays for an exact parse).
    ``long_digits=False`` says the caller has already scanned the bytes and found no run.
    """
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        # orjson refuses NaN/Infinity; say it plainly
        raise ValueError(f"not valid JSON: {exc}") from exc
    if (
        type(obj) is dict
        and text.count(b"{") == 2
        and b"[" not in text
        and type(rec := obj.get("record")) is dict
    ):
        keys = len(obj) + len(rec)  # the usual envelope around a flat record
    else:
        keys, depth = _shape(obj)
        if depth > limits.json_max_depth:
            raise ValueError(f"nested deeper than {limits.json_max_depth} levels")
    # every key is followed by '":' once whitespace is gone; a duplicate makes counts differ
    if text.count(b'":') != keys and text.translate(None, _JSON_SPACE).count(b'":') != keys:
        json.loads(text, object_pairs_hook=reject_duplicate_keys)
    limit = limits.json_max_int_digits
    if long_digits and has_digit_run(text, limit) and _has_long_number(text, limit):
        raise ValueError(f"a number has more than {limit} integer digits")
    return obj


def has_digit_run(data: bytes, limit: int) -> bool:
    """True if ``data`` holds more than ``limit`` digits in a row (anywhere, strings too)."""
    return b"0" * (limit + 1) in data.translate(_DIGITS_ONLY)


def _has_long_number(text: bytes, limit: int) -> bool:
    """Exact check on numbers only (not digits inside strings): parse numbers as text."""
    found = False

    def num(s: str) -> int:
        nonlocal found
        if len(s.lstrip("-").split(".")[0].split("e")[0].split("E")[0]) > limit:
            found = True
        return 0

    json.loads(text, parse_int=num, parse_float=num)
    return found


_ENVELOPE_KEYS = frozenset({"dataset", "op", "key", "record"})


def _envelope(obj: Any, index: int, line: int | None) -> RawRecord:
    if type(obj) is dict and obj.keys() <= _ENVELOPE_KEYS:  # the usual record: no copies
        rec, dataset = obj.get("record"), obj.get("dataset")
        if type(rec) is dict and type(dataset) is str:
            op, key = obj.get("op"), obj.get("key")
            if (type(op) is str or op is None) and (type(key) is str or key is None):
                return RawRecord(index, dataset, rec, op, key, line)
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
    extra = (
        {k: v for k, v in obj.items() if k not in _ENVELOPE_KEYS}
        if not obj.keys() <= _ENVELOPE_KEYS
        else None
    )
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
    wrong = [
        f'"{name}" is {_json_type(v)} {json.dumps(v, ensure_ascii=False)[:60]}'
        for name, v in (("op", op), ("key", key))
        if v is not None and not isinstance(v, str)
    ]
    return RawRecord(
        index=index,
        dataset=dataset,
        fields=rec if isinstance(rec, dict) else {},
        op=op if isinstance(op, str) else None,
        key=key if isinstance(key, str) else None,
        line=line,
        problem=problem,
        extra=extra,
        envelope="; ".join(wrong) + ", expected a string" if wrong else None,
    )


def _json_type(v: Any) -> str:
    kinds = {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }
    return kinds.get(type(v), type(v).__name__)


# JSONL lines decoded together: the strict checks run once per block.  Small on purpose:
# the parsed records of a block must still be in the CPU cache when they are validated
# (measured: 100 lines 8.2 us/record, 1,000 lines 14 us/record for the same work)
BLOCK_LINES = 100


def jsonl_records(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Iterator[RawRecord]:
    return jsonl_lines(data.removeprefix(UTF8_BOM).split(b"\n"), 1, 0, limits)


def jsonl_stream(
    stream: BinaryIO, limits: Limits = DEFAULT_LIMITS, block_bytes: int = 1 << 20
) -> Iterator[RawRecord]:
    """JSONL from a stream, a block of lines at a time: memory does not grow with the file,
    nor with a line: one longer than ``limits.jsonl_max_line`` is skipped unread and becomes
    a malformed record (its start kept as its text)."""
    lineno, index = 1, 0
    carry = b""
    first = True
    while True:
        block = stream.read(block_bytes)
        if first:  # a UTF-8 byte order mark before the first line is not part of it
            block, first = block.removeprefix(UTF8_BOM), False
        data = carry + block if carry else block
        cut = data.rfind(b"\n") if block else len(data)
        if cut < 0:  # no line ends in what we have: a long line is arriving
            carry = data
            if len(carry) > limits.jsonl_max_line:
                index += 1
                raw, carry = _overlong(stream, carry, lineno, index, limits, block_bytes)
                yield raw
                lineno += 1
            continue
        lines, carry = data[:cut].split(b"\n"), data[cut + 1 :]
        if not block and lines == [b""]:
            return
        longest = limits.jsonl_max_line
        while lines:  # the lines up to an overlong one (if any), then that one
            if max(map(len, lines)) <= longest:  # the usual case, checked in C
                n = len(lines)
            else:
                n = next(i for i, ln in enumerate(lines) if len(ln) > longest)
            for raw in jsonl_lines(lines[:n], lineno, index, limits):
                index = raw.index
                yield raw
            lineno += n
            if n < len(lines):
                index += 1
                yield _too_long(lines[n], len(lines[n]), lineno, index, limits)
                lineno += 1
            lines = lines[n + 1 :]
        if not block:
            return


def _overlong(
    stream: BinaryIO, start: bytes, lineno: int, index: int, limits: Limits, block_bytes: int
) -> tuple[RawRecord, bytes]:
    """Read past the rest of an overlong line without keeping it: the record that says so,
    and the bytes read after the line's end (the next lines' start)."""
    size, rest = len(start), b""
    while block := stream.read(block_bytes):
        nl = block.find(b"\n")
        if nl >= 0:
            size += nl
            rest = block[nl + 1 :]
            break
        size += len(block)
    return _too_long(start, size, lineno, index, limits), rest


def _too_long(start: bytes, size: int, lineno: int, index: int, limits: Limits) -> RawRecord:
    return RawRecord(
        index,
        "",
        {},
        line=lineno,
        problem=f"line {lineno} is {size} bytes, over the limit of {limits.jsonl_max_line} "
        "bytes for one record; split the record",
        text=start[:1024] + b"...",
    )


def jsonl_lines(
    lines: list[bytes], first_line: int, index: int, limits: Limits
) -> Iterator[RawRecord]:
    """Records of ``lines`` numbered from ``first_line``, records from ``index + 1``."""
    for block in jsonl_blocks(lines, first_line, limits):
        for item in block.items:
            index += 1
            yield block.record(item, index)


@dataclass(slots=True)
class JsonlBlock:
    """Up to BLOCK_LINES parsed lines: (line number, bytes, object or None).  ``flat`` says
    the block passed the strict checks as a whole, so each object stands as parsed."""

    items: list[tuple[int, bytes, Any]]
    flat: bool
    long_digits: bool
    limits: Limits

    def record(self, item: tuple[int, bytes, Any], index: int) -> RawRecord:
        lineno, line, obj = item
        if not self.flat:
            try:
                obj = loads_json(line, self.limits, self.long_digits)
            except (ValueError, RecursionError) as exc:
                return RawRecord(
                    index, "", {}, line=lineno, problem=f"line {lineno}: {exc}", text=line.rstrip()
                )
        raw = _envelope(obj, index, lineno)
        raw.text = line
        return raw


def jsonl_blocks(lines: list[bytes], first_line: int, limits: Limits) -> Iterator[JsonlBlock]:
    """Decode lines a block (BLOCK_LINES) at a time.  The strict checks of ``loads_json``
    (duplicate keys, depth, long numbers) run once on a whole block when it can be shown
    clean at once: no ``[``, and as many keys spelled as the parsed envelopes and records
    have.  Every key spelled is followed by its own ``:`` (after optional whitespace), so
    the block's ``:`` bytes that do not begin ``://`` (a URL; never a key's, as no JSON
    value starts with ``/``) bound the keys spelled from above, as do its ``":`` once
    whitespace is gone; either bound equal to the parsed count means every line spells each
    of its keys once (no duplicate lost) and holds no nested object with keys.  Record
    fields are then scalars (or ``{}``); a number among them, which the schema refuses
    anyway, sends the record back through ``strict_problem``.  Any other block is checked
    line by line."""
    for start in range(0, len(lines), BLOCK_LINES):
        part = lines[start : start + BLOCK_LINES]
        block = b"\n".join(part)
        flat = b"[" not in block
        items: list[tuple[int, bytes, Any]] = []
        keys = 0
        for lineno, line in enumerate(part, start=first_line + start):
            if not line or line.isspace():
                continue
            obj = None
            if flat:
                try:
                    obj = orjson.loads(line)
                except orjson.JSONDecodeError:
                    flat = False
                else:
                    if (
                        type(obj) is dict
                        and type(rec := obj.get("record")) is dict
                        and (len(obj) == 2 or _plain_envelope(obj))
                    ):
                        keys += len(obj) + len(rec)
                    else:
                        flat = False
            items.append((lineno, line, obj))
        flat = flat and (
            block.count(b":") - block.count(b"://") == keys
            or block.translate(None, _JSON_SPACE).count(b'":') == keys
        )
        long_digits = not flat and has_digit_run(block, limits.json_max_int_digits)
        yield JsonlBlock(items, flat, long_digits, limits)


def _plain_envelope(obj: dict[str, Any]) -> bool:
    """dataset, record and optional string op and key, nothing else."""
    return (
        obj.keys() <= _ENVELOPE_KEYS
        and type(obj.get("dataset")) is str
        and type(obj.get("op", "")) is str
        and type(obj.get("key", "")) is str
    )


def strict_problem(text: bytes, line: int | None, limits: Limits = DEFAULT_LIMITS) -> str | None:
    """Why ``loads_json`` refuses a JSONL line, worded as the line-by-line decoding words it
    (for a record whose block was checked as a whole and whose schema check failed)."""
    try:
        loads_json(text, limits)
    except (ValueError, RecursionError) as exc:
        return f"line {line}: {exc}" if line is not None else str(exc)
    return None


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
