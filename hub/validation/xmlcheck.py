"""XML batches: the XSD over the records a chunk at a time, each schema error given to its
own record.

A ``<BATCH>`` is validated ``CHUNK`` records at a time, each chunk moved under a root of its
own: libxml2 (through lxml) takes time that grows with the square of a document's errors, so
a whole document of a million failing records never finished, while chunks keep the cost
linear and let records stream to the store as each chunk is done.  Within a failing chunk an
error goes to the record whose lines it falls in; records that share a line (minified XML)
are validated one by one, so that each gets only its own errors.
"""

from __future__ import annotations

import bisect
import copy
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

from lxml import etree

from hub.interop.fujian import message
from hub.interop.shanxi import message as shanxi
from hub.validation import decode
from hub.validation.decode import RawRecord
from hub.validation.issues import Issue
from hub.validation.result import RecordResult

if TYPE_CHECKING:
    from hub.validation.validator import Validator

CHUNK = 2000  # records validated together (errors cost a chunk's square)


def iter_xml(
    v: Validator, data: bytes, source: str, on_record: Callable[[int], None] | None
) -> Iterator[RecordResult]:
    tree = decode.parse_xml(data, source)
    root = tree.getroot()
    one: Iterator[RawRecord] | None = None  # a provincial message: one record, by JSON Schema
    settle: Callable[[RawRecord, list[Issue], str], list[Issue]] = _as_is
    if message.is_message(root):  # Fujian's V4 <DES>
        numbers = {n: d.data_no for n, d in v.dictionary.datasets.items()}
        one = message.records(root, numbers)
    elif shanxi.is_message(root):  # Shanxi's GCJS_* document, or the hub's record of a call
        one, settle = shanxi.records(root), shanxi.settle
    if one is not None:
        for raw in one:
            yield RecordResult(raw, settle(raw, v.check_json(raw, source), source))
            if on_record:
                on_record(1)
        return
    if root.tag not in decode.BATCH_ROOTS:  # one data-set element as the document
        yield from _part(v, tree, source, on_record, 0, set())
        return
    children = list(root)
    told: set[str] = set()  # document-level errors already reported (once, not per chunk)
    for start in range(0, max(len(children), 1), CHUNK):
        part = etree.Element(root.tag, {str(k): str(x) for k, x in root.attrib.items()})
        part.extend(children[start : start + CHUNK])  # moved: the chunk owns them now
        yield from _part(v, etree.ElementTree(part), source, on_record, start, told)


def _as_is(_raw: RawRecord, issues: list[Issue], _source: str) -> list[Issue]:
    return issues


def _part(
    v: Validator,
    tree: etree._ElementTree,
    source: str,
    on_record: Callable[[int], None] | None,
    offset: int,
    told: set[str],
) -> Iterator[RecordResult]:
    schema = v.xml_schema
    if schema.validate(tree):  # the common case: records stream from the valid tree
        for raw in decode.xml_records(tree, v.known, offset):
            yield _result(v, raw, source, None)
            if on_record:
                on_record(1)
        return
    # the schema objects: rename alias fields, validate again, and give each schema
    # error to the record whose lines it falls in
    raws = list(decode.xml_records(tree, v.known, offset))
    for raw in raws:
        v.rename_aliases(raw)
    bad, doc_errors = _errors(v, tree, raws) if not schema.validate(tree) else ({}, [])
    new = [m for m in doc_errors if m not in told]
    if new:
        told.update(new)
        root = RawRecord(0, tree.getroot().tag, {})
        yield RecordResult(
            root, [Issue(source, 0, "", "", "schema", None, f"{source}: {m}") for m in new]
        )
    for n, raw in enumerate(raws):
        if n in bad and raw.element is not None:
            raw.problem = decode.nested_field_problem(raw.element)
        yield _result(v, raw, source, bad.get(n) if n in bad else None)
        if on_record:
            on_record(1)


def _result(v: Validator, raw: RawRecord, source: str, errors: list[str] | None) -> RecordResult:
    issues = v.check_record(raw, source, errors is None, errors)
    if issues and raw.element is not None:
        raw.text = etree.tostring(raw.element, encoding="utf-8")
    raw.element = None  # let the tree go as records are consumed
    return RecordResult(raw, issues)


def _errors(
    v: Validator, tree: etree._ElementTree, raws: list[RawRecord]
) -> tuple[dict[int, list[str]], list[str]]:
    """The last validation's errors by record position, and those of the document itself."""
    lines = [r.line or 0 for r in raws]
    on_line: dict[int, list[int]] = {}
    for j, ln in enumerate(lines):
        on_line.setdefault(ln, []).append(j)
    in_batch = tree.getroot().tag in decode.BATCH_ROOTS
    bad: dict[int, list[str]] = {}
    doc_errors: list[str] = []
    crowded: set[int] = set()  # failing lines that start several records
    for e in cast(Iterable[Any], v.xml_schema.error_log):
        msg = f"line {e.line}: {e.message}"
        if not raws or (in_batch and e.line < lines[0]):
            doc_errors.append(msg)
            continue
        ln = lines[max(bisect.bisect_right(lines, e.line) - 1, 0)]
        if len(on_line[ln]) > 1:
            crowded.add(ln)  # whose error is it? each record is asked on its own
        else:
            bad.setdefault(on_line[ln][0], []).append(msg)
    for ln in crowded:
        for j in on_line[ln]:
            own = _own_errors(v, raws[j], tree.getroot().tag)
            if own:
                bad[j] = own
    return bad, doc_errors


def _own_errors(v: Validator, raw: RawRecord, root_tag: str) -> list[str]:
    """One record's schema errors, validated alone in a batch of its own (records that
    share a line cannot be told apart by the line numbers of a whole-document error)."""
    if raw.element is None:
        return []
    doc = etree.Element(root_tag)
    doc.append(copy.deepcopy(raw.element))
    schema = v.xml_schema
    if schema.validate(etree.ElementTree(doc)):
        return []
    at = raw.line or 0
    return [f"line {at}: {e.message}" for e in cast(Iterable[Any], schema.error_log)]
