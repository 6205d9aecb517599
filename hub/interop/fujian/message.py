"""Fujian's V4 message: one record in a ``<DES>`` document.

    <DES>
      <TITLE>  DATA_NO, DATA_EN, DATA_CN, DATA_TYPE (1 add, 2 modify, 3 delete), DATA_KEY,
               CA_KEY, ROUTE_WAY
      <CONTEXT>  the record's fields (absent for a delete)
      <FILECONTEXT><SOURCE> FILE_EN_NAME, FILE_NAME, BINARY_CONTENT, [IS_DELETE] ...

(the layout of the Fujian hub's DataOperator.GetXmlContent and its sample messages, repository
lishanling/GGZY: GGZY/Businesses/GGZY.DataV4Service, GGZY/Tests/DataV4Service.Test/UploadData.)

The data set is DATA_EN, checked against DATA_NO by the dictionary's numbering (PROJECT is
500); DATA_KEY, the sender system's own identifier of the record, becomes the envelope's
``key`` (kept as the version's sender key: a delete names its record by it alone).  Element
names are matched without regard to case, as the Fujian hub's DataSet does.  FILECONTEXT
lists attachments by a path on the sender's FTP drop; the list is kept with the record
(``extra["attachments"]``) and the message itself stays in the raw store, the files are not
fetched.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from lxml import etree

from hub.validation.decode import RawRecord

ROOT = "DES"
OPS = {"1": "add", "2": "modify", "3": "delete"}
TITLE_FIELDS = ("DATA_NO", "DATA_EN", "DATA_CN", "DATA_TYPE", "DATA_KEY", "CA_KEY", "ROUTE_WAY")
FILE_FIELDS = ("FILE_EN_NAME", "FILE_NAME", "BINARY_CONTENT", "IS_DELETE")


def is_message(root: etree._Element) -> bool:
    return isinstance(root.tag, str) and root.tag.upper() == ROOT


def _children(el: etree._Element, name: str) -> list[etree._Element]:
    return [c for c in el if isinstance(c.tag, str) and c.tag.upper() == name]


def _text(el: etree._Element) -> dict[str, str]:
    return {c.tag.upper(): (c.text or "").strip() for c in el if isinstance(c.tag, str)}


def title_of(root: etree._Element) -> dict[str, str]:
    """The TITLE's values (empty when there is no TITLE)."""
    titles = _children(root, "TITLE")
    return _text(titles[0]) if titles else {}


def records(root: etree._Element, numbers: dict[str, str]) -> Iterator[RawRecord]:
    """The message's record (one per CONTEXT; a delete has none and is one record).
    ``numbers``: the dictionary's DATA_NO of each data set, to check TITLE against."""
    line = root.sourceline if isinstance(root.sourceline, int) else None
    title = title_of(root)
    files = [
        {k: v for k, v in _text(s).items() if k in FILE_FIELDS}
        for fc in _children(root, "FILECONTEXT")
        for s in _children(fc, "SOURCE")
    ]
    problem, dataset = _title_problem(title, numbers)
    op = OPS.get(title.get("DATA_TYPE", ""))
    key = title.get("DATA_KEY") or None
    contexts = _children(root, "CONTEXT")
    extra: dict[str, Any] | None = {"attachments": files} if files else None
    if problem is None and op != "delete" and not contexts:
        problem = f"DATA_TYPE {title.get('DATA_TYPE')} ({op}) needs a CONTEXT with the fields"
    if problem is None and op == "delete" and not key and not contexts:
        problem = "a delete (DATA_TYPE 3) without CONTEXT names its record by DATA_KEY: give it"
    for i, ctx in enumerate(contexts or [root], start=1):
        nested = [c.tag for c in ctx if isinstance(c.tag, str) and len(c)] if contexts else []
        fields = _text(ctx) if contexts else {}
        bad = problem or (f"CONTEXT field <{nested[0]}> contains elements" if nested else None)
        yield RawRecord(
            i,
            dataset,
            {} if bad else fields,
            op,
            key,
            ctx.sourceline if isinstance(ctx.sourceline, int) else line,
            problem=bad,
            extra=extra,
            text=etree.tostring(root, encoding="utf-8") if bad else None,
        )


def _title_problem(title: dict[str, str], numbers: dict[str, str]) -> tuple[str | None, str]:
    """(why the TITLE cannot be used, or None; the data set it names)."""
    if not title:
        return "the message has no TITLE (DATA_NO, DATA_EN, DATA_TYPE, DATA_KEY)", ""
    by_no = {no: name for name, no in numbers.items()}
    en, no = title.get("DATA_EN", ""), title.get("DATA_NO", "")
    dataset = en or by_no.get(no, "")
    if not dataset:
        return f"TITLE names no data set: DATA_EN is empty and DATA_NO {no!r} is unknown", ""
    if en and no and en in numbers and numbers[en] != no:
        return (
            f"TITLE names DATA_EN {en} (DATA_NO {numbers[en]}) but DATA_NO {no}"
            + (f" ({by_no[no]})" if no in by_no else "")
            + "; they must name the same data set",
            dataset,
        )
    if title.get("DATA_TYPE", "") not in OPS:
        return (
            f"TITLE DATA_TYPE is {title.get('DATA_TYPE', '')!r}; expected 1 (add), 2 (modify) "
            "or 3 (delete)",
            dataset,
        )
    return None, dataset


TYPES = {op: no for no, op in OPS.items()}


def data_key(system_no: str, data_no: str, dataset: str, business_key: str) -> str:
    """The 22-character DATA_KEY this node gives a record it sends to a Fujian-style service:
    its SYSTEM_NO, the DATA_NO, then digits from the record's data set and business key, so
    an add, its modifies and its delete name the same record (Fujian's DataKeyValidator
    checks the length and both prefixes)."""
    digest = hashlib.sha256(f"{dataset}\x1f{business_key}".encode()).digest()
    width = 22 - len(system_no) - len(data_no)
    return f"{system_no}{data_no}{int.from_bytes(digest[:12], 'big') % 10**width:0{width}d}"


def build(
    dataset: str,
    data_no: str,
    name_cn: str,
    op: str,
    fields: dict[str, Any],
    key: str,
) -> bytes:
    """One record as a ``<DES>`` message (CONTEXT, then TITLE, as the samples have it); a
    delete is a TITLE alone."""
    root = etree.Element(ROOT)
    if op != "delete":
        ctx = etree.SubElement(root, "CONTEXT")
        for name, value in fields.items():
            etree.SubElement(ctx, name).text = "" if value is None else str(value)
    title = etree.SubElement(root, "TITLE")
    for name, value in (
        ("DATA_CN", name_cn),
        ("DATA_EN", dataset),
        ("DATA_KEY", key),
        ("DATA_NO", data_no),
        ("DATA_TYPE", TYPES[op]),
    ):
        etree.SubElement(title, name).text = value
    return bytes(etree.tostring(root, encoding="utf-8"))
