"""Shanxi's public-service platform (PSPDE): one record in a ``GCJS_*`` document, alone or as
the hub's record of a ``receiveInfo`` call.

A trading system sends Shanxi ``receiveInfo(USERID, KEY, SERIALNUMBER, DATASETCODE,
XMLCONTENT, REQUESTTIME, VERSIONNUMBER, PLATID, creditCode)``; XMLCONTENT is one document
whose root is DATASETCODE (``GCJS_TENDER_PROJECT`` …) and whose children are the record's
fields under the national identifiers plus Shanxi's own (repository cdut007/vote-system,
``app_review/…/platform/webservice/ServiceClient.java`` and ``…/platform/shanxi/GCJS*.java``).

The hub reads two shapes:

- a ``GCJS_*`` document alone (a file in an inbox, ``hub ingest``): the record, keyed by its
  business key;
- ``<receiveInfo USERID=… SERIALNUMBER=… DATASETCODE=… REQUESTTIME=… VERSIONNUMBER=…
  PLATID=… creditCode=…>`` with the document as its child: what the hub's SOAP endpoint keeps
  of a call (everything but KEY, a password).  PLATID, "the record's unique identifier in the
  trading platform", becomes the sender key.

receiveInfo has no operation: each call is the record as it is now, so it is read as an add
and placed by reconcile like any version (a later DATA_TIMESTAMP replaces, an older one is
history).  Nothing in Shanxi's interface deletes a record.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from lxml import etree

from hub.validation.decode import RawRecord
from hub.validation.issues import Issue, excuse

CALL = "receiveInfo"
CODE_LENGTH = {"TENDER_PROJECT_CODE": 20}  # CEB Pt.1 App. B.3: a section code begins with it
# receiveInfo's arguments arg0 … arg8, by the names ServiceClient gives them
PARAMS = (
    "USERID",
    "KEY",
    "SERIALNUMBER",
    "DATASETCODE",
    "XMLCONTENT",
    "REQUESTTIME",
    "VERSIONNUMBER",
    "PLATID",
    "creditCode",
)
KEPT = tuple(p for p in PARAMS if p not in ("KEY", "XMLCONTENT"))  # kept with the call
NOT_DATA_SETS = {
    "GCJS_ATTACHMENTS": "attachment metadata, which Shanxi takes on its file service "
    "(pspdefilews), not a data set",
    "WEB_UNICODE_RECORD": "a request for a unified deal code (receiveInfoUnionCode), not a "
    "data set",
}


@dataclass(frozen=True)
class Document:
    root: str  # DATASETCODE, e.g. GCJS_TENDER_PROJECT
    dataset: str  # the national data set
    fields: tuple[str, ...]  # Shanxi's element names, in its class's order
    absent: frozenset[str]  # national mandatory fields it has no element for: left empty
    derive: dict[str, str]  # national field -> the field whose code begins with it


@functools.cache
def documents() -> dict[str, Document]:
    """Each GCJS_* document and its national data set (documents.toml, with its source)."""
    raw = tomllib.loads((files(__package__) / "documents.toml").read_text("utf-8"))
    return {
        root: Document(
            root,
            d["dataset"],
            tuple(f.rstrip("*") for f in d["fields"]),  # "*": required in Shanxi's class
            frozenset(d.get("absent", ())),
            dict(d.get("derive", {})),
        )
        for root, d in raw.items()
    }


@functools.cache
def by_dataset() -> dict[str, Document]:
    return {d.dataset: d for d in documents().values()}


def is_message(root: etree._Element) -> bool:
    tag = root.tag if isinstance(root.tag, str) else ""
    return tag == CALL or tag in documents() or tag in NOT_DATA_SETS


def _problem(root: etree._Element, call: dict[str, str]) -> tuple[str | None, Any, str]:
    """(why the message cannot be read or None, its document element, the data set)."""
    doc: Any = root
    if root.tag == CALL:
        kids = [c for c in root if isinstance(c.tag, str)]
        if len(kids) != 1:
            return f"a receiveInfo record holds one document; this one holds {len(kids)}", None, ""
        doc = kids[0]
        code = call.get("DATASETCODE", "")
        if code != doc.tag:
            return (
                f"DATASETCODE is {code!r} but XMLCONTENT's root is <{doc.tag}>; Shanxi requires "
                "them to be the same",
                doc,
                "",
            )
    if doc.tag in NOT_DATA_SETS:
        return f"<{doc.tag}> is {NOT_DATA_SETS[doc.tag]}", doc, ""
    d = documents().get(doc.tag)
    if d is None:
        return f"<{doc.tag}> is not a document of Shanxi's platform", doc, ""
    nested = [c.tag for c in doc if isinstance(c.tag, str) and len(c)]
    if nested:
        return f"field <{nested[0]}> of <{doc.tag}> contains elements", doc, d.dataset
    return None, doc, d.dataset


def records(root: etree._Element) -> Iterator[RawRecord]:
    """The one record of a GCJS_* document or of a receiveInfo record."""
    call = {str(k): str(v) for k, v in root.attrib.items()} if root.tag == CALL else {}
    problem, doc, dataset = _problem(root, call)
    el = doc if doc is not None else root
    line = el.sourceline if isinstance(el.sourceline, int) else None
    fields = (
        {} if problem else {c.tag: (c.text or "").strip() for c in el if isinstance(c.tag, str)}
    )
    fields = {k: v for k, v in fields.items() if v != ""}  # JAXB writes null as nothing
    derived: dict[str, str] = {}
    if not problem:
        for name, whence in documents()[el.tag].derive.items():
            code = fields.get(whence, "")
            if name not in fields and len(code) > CODE_LENGTH[name]:
                fields[name] = derived[name] = code[: CODE_LENGTH[name]]
    yield RawRecord(
        1,
        dataset,
        fields,
        "add",
        call.get("PLATID") or None,
        line,
        problem=problem,
        extra={"derived": derived} if derived else None,
        text=etree.tostring(root, encoding="utf-8") if problem else None,
    )


def settle(raw: RawRecord, issues: list[Issue], source: str) -> list[Issue]:
    """The validator's issues as Shanxi's overlay reads them: a national mandatory field the
    document has no element for is a warning (shanxi.absent), not an error; a field derived
    from a code is said (shanxi.derived)."""
    doc = by_dataset().get(raw.dataset)
    if doc is None or raw.problem:
        return issues
    out = excuse(
        issues,
        doc.absent,
        "shanxi.absent",
        f"Shanxi's {doc.root} has no such element, so the record is taken without it (not "
        "filled in: overlay shanxi, docs/interop.md)",
    )
    for name, value in ((raw.extra or {}).get("derived") or {}).items():
        at = f"{source}, record {raw.index}" + (f" (line {raw.line})" if raw.line else "")
        out.append(
            Issue(
                source,
                raw.index,
                raw.dataset,
                name,
                "shanxi.derived",
                value,
                f"{at}, {raw.dataset}.{name}: not in Shanxi's {doc.root}; taken "
                f"from {doc.derive[name]}, whose code begins with it (CEB code structure)",
                "warning",
            )
        )
    return out


def wrap(args: dict[str, str], document: etree._Element) -> bytes:
    """What the hub keeps of one receiveInfo call: its arguments but KEY and XMLCONTENT as
    attributes, the XMLCONTENT document as the one child."""
    root = etree.Element(CALL, {k: args[k] for k in KEPT if args.get(k)})
    root.append(document)
    return bytes(etree.tostring(root, encoding="utf-8", xml_declaration=True))


def build(doc: Document, fields: dict[str, Any]) -> str:
    """A record as Shanxi's XMLCONTENT: the document's elements in its order, those the record
    has (JAXB leaves out a null field), as JAXB marshals it (UTF-8, standalone)."""
    root = etree.Element(doc.root)
    for name in doc.fields:
        value = fields.get(name)
        if value is not None and value != "":
            etree.SubElement(root, name).text = str(value)
    body = etree.tostring(root, encoding="unicode", pretty_print=True)
    return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + body
