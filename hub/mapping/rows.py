"""Read a source system's export as rows (column → value) for a mapping.

CSV in an explicit encoding (GBK is common in county systems; a UTF-8 BOM is allowed),
JSON (an array of objects, or one found by a dotted path), JSONL (one object per line; what
the sql and http adapters store as the raw batch of a pull) and XML (one element per row,
its children or attributes the columns) with the same hardened parser as batch files.
A file that cannot be read as a whole raises InputError naming the file and the place.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from hub.errors import InputError
from hub.mapping.model import InputSpec
from hub.validation import decode
from hub.validation.limits import DEFAULT_LIMITS, Limits


@dataclass
class Row:
    index: int  # 1-based
    line: int | None
    values: dict[str, Any]
    problem: str | None = None  # the row cannot be read as the header says (quarantined)


@dataclass
class Rows:
    """The rows of one input and, for CSV, its header (to check the mapping's columns)."""

    columns: list[str] | None
    rows: Iterator[Row]
    kind: str | None = None  # xml with row ".": the document element's name (what it is)


def read_rows(
    stream: BinaryIO, spec: InputSpec, origin: str, limits: Limits = DEFAULT_LIMITS
) -> Rows:
    if spec.format == "csv":
        return _csv(stream, spec, origin)
    if spec.format == "jsonl":
        return Rows(None, _jsonl(stream, origin, limits))
    data = stream.read(limits.max_input_bytes + 1)
    if len(data) > limits.max_input_bytes:
        raise InputError(
            origin,
            f"is over the input limit of {limits.max_input_bytes} bytes",
            code="input.too-large",
        )
    if spec.format == "json":
        return Rows(None, _json(data, spec, origin, limits))
    if spec.row == ".":  # the document is one record: CEB's <tenderProject>, …
        root = decode.parse_xml(data, origin).getroot()
        return Rows(None, iter([_element_row(1, root)]), kind=str(root.tag))
    return Rows(None, _xml(data, spec, origin))


def _csv(stream: BinaryIO, spec: InputSpec, origin: str) -> Rows:
    enc = "utf-8-sig" if codecs.lookup(spec.encoding).name == "utf-8" else spec.encoding
    text = io.TextIOWrapper(stream, encoding=enc, errors="strict", newline="")
    reader = csv.reader(text, delimiter=spec.delimiter, strict=True)

    def fail(exc: Exception) -> InputError:
        where = f"line {reader.line_num + 1}" if reader.line_num else "the first line"
        if isinstance(exc, UnicodeDecodeError):
            bad = exc.object[exc.start : exc.start + 4]
            return InputError(
                origin,
                f"is not valid {spec.encoding} text near {where} (bytes {bad!r}); "
                "check [input].encoding of the mapping",
                code="input.encoding",
            )
        return InputError(origin, f"is not valid CSV at {where}: {exc}", code="csv.syntax")

    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error) as exc:
        text.detach()
        raise fail(exc) from exc
    if header is None:
        text.detach()  # the caller owns the binary stream: never close it from here
        return Rows([], iter(()))
    header = [h.strip(" \u3000\ufeff") for h in header]
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(origin, f"the CSV header repeats columns {dupes}", code="csv.header")

    def rows() -> Iterator[Row]:
        try:
            yield from _cells()
        finally:
            with contextlib.suppress(ValueError):  # the caller closed its stream already
                text.detach()

    def _cells() -> Iterator[Row]:
        index = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except (UnicodeDecodeError, csv.Error) as exc:
                raise fail(exc) from exc
            if not cells or all(not c.strip() for c in cells):
                continue
            index += 1
            values: dict[str, Any] = dict(zip(header, cells, strict=False))
            problem = (
                f"has {len(cells)} cells; the header has {len(header)} columns"
                if len(cells) != len(header)
                else None
            )
            yield Row(index, reader.line_num, values, problem)

    return Rows(header, rows())


def _jsonl(stream: BinaryIO, origin: str, limits: Limits) -> Iterator[Row]:
    index = 0
    for lineno, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        index += 1
        try:
            obj = decode.loads_json(line, limits)
        except (ValueError, RecursionError) as exc:
            raise InputError(origin, f"line {lineno}: {exc}", code="json.syntax") from exc
        if not isinstance(obj, dict):
            raise InputError(
                origin, f"line {lineno}: a row must be a JSON object", code="json.shape"
            )
        yield Row(index, lineno, obj)


def _json(data: bytes, spec: InputSpec, origin: str, limits: Limits) -> Iterator[Row]:
    try:
        doc = decode.loads_json(data, limits)
    except (ValueError, RecursionError) as exc:
        raise InputError(origin, str(exc), code="json.syntax") from exc
    items: Any = doc
    if spec.records:
        for part in spec.records.split("."):
            items = items.get(part) if isinstance(items, dict) else None
    elif isinstance(doc, dict) and "records" in doc:
        items = doc["records"]
    if not isinstance(items, list):
        where = f"at {spec.records!r}" if spec.records else "(the document or its .records)"
        raise InputError(origin, f"expected an array of rows {where}", code="json.shape")
    for i, obj in enumerate(items, start=1):
        if not isinstance(obj, dict):
            raise InputError(origin, f"row {i} is not a JSON object", code="json.shape")
        yield Row(i, None, obj)


def _xml(data: bytes, spec: InputSpec, origin: str) -> Iterator[Row]:
    tree = decode.parse_xml(data, origin)
    for i, el in enumerate(tree.iter(spec.row), start=1):
        yield _element_row(i, el)


def _element_row(i: int, el: Any) -> Row:
    values: dict[str, Any] = {f"@{k!s}": str(v) for k, v in el.attrib.items()}
    for child in el:
        if isinstance(child.tag, str):
            values[child.tag] = (child.text or "") if len(child) == 0 else None
    line = el.sourceline
    return Row(i, line if isinstance(line, int) else None, values)
