"""XSD 1.0 for each data set, a shared ``common.xsd`` and the batch document.

Record elements carry the data set name (``<PROJECT>``), fields are child elements in any
order (``xs:all``), and two optional attributes describe the change: ``op`` (add, modify,
delete) and ``key`` (the sender's own record key, e.g. a Fujian DATA_KEY).  Optional fields
may be sent empty (``<APPROVAL_NUMBER/>``): their type is a union with ``Empty``.
"""

from __future__ import annotations

from lxml import etree

from hub.dictionary.loader import Dictionary
from hub.dictionary.model import DataSet, FieldDef
from hub.schemagen.facets import OP_VALUES, facets

XS = "http://www.w3.org/2001/XMLSchema"
BATCH_ROOT = "BATCH"


def _el(parent: etree._Element | None, tag: str, **attrs: str) -> etree._Element:
    name = f"{{{XS}}}{tag}"
    e = etree.Element(name, nsmap={"xs": XS}) if parent is None else etree.SubElement(parent, name)
    for k, v in attrs.items():
        e.set(k, v)
    return e


def _schema(doc: str) -> etree._Element:
    root = _el(None, "schema", elementFormDefault="unqualified")
    ann = _el(root, "annotation")
    _el(ann, "documentation").text = doc
    return root


def _text(root: etree._Element) -> str:
    return etree.tostring(root, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode()


def _field_type(parent: etree._Element, f: FieldDef, d: Dictionary) -> None:
    fc = facets(f, d.codesets)
    st = _el(parent, "simpleType")
    target = st
    if not fc.required:
        union = _el(st, "union", memberTypes="Empty")
        target = _el(union, "simpleType")
    r = _el(target, "restriction", base="xs:string")
    if fc.fixed_length is not None:
        _el(r, "length", value=str(fc.fixed_length))
    elif fc.max_length is not None:
        _el(r, "maxLength", value=str(fc.max_length))
    if fc.required and fc.fixed_length is None:
        _el(r, "minLength", value="1")
    if fc.pattern:
        _el(r, "pattern", value=fc.pattern)
    for code in fc.enum or ():
        _el(r, "enumeration", value=code)


def dataset_xsd(ds: DataSet, d: Dictionary) -> str:
    root = _schema(f"{ds.data_no} {ds.name} {ds.name_cn} (spec V{ds.spec_version}, {ds.source})")
    _el(root, "include", schemaLocation="common.xsd")
    el = _el(root, "element", name=ds.name)
    ct = _el(el, "complexType")
    allg = _el(ct, "all")
    for f in ds.fields:
        fe = _el(allg, "element", name=f.id, minOccurs="1" if f.required == "Y" else "0")
        if f.name_cn:
            _el(_el(fe, "annotation"), "documentation").text = f.name_cn
        _field_type(fe, f, d)
    _el(ct, "attribute", name="op", type="Op", use="optional")
    _el(ct, "attribute", name="key", type="RecordKey", use="optional")
    return _text(root)


def common_xsd() -> str:
    root = _schema("Types shared by every data set of the hub's XSD set.")
    empty = _el(root, "simpleType", name="Empty")
    _el(_el(empty, "restriction", base="xs:string"), "maxLength", value="0")
    op = _el(root, "simpleType", name="Op")
    r = _el(op, "restriction", base="xs:string")
    for v in OP_VALUES:
        _el(r, "enumeration", value=v)
    key = _el(root, "simpleType", name="RecordKey")
    r = _el(key, "restriction", base="xs:string")
    _el(r, "minLength", value="1")
    _el(r, "maxLength", value="64")
    return _text(root)


def batch_xsd(d: Dictionary) -> str:
    root = _schema(
        f"A batch of records of the national data specification V{d.spec_version}: "
        "any number of data-set elements in any order."
    )
    for name in sorted(d.datasets):
        _el(root, "include", schemaLocation=f"{name}.xsd")
    el = _el(root, "element", name=BATCH_ROOT)
    ct = _el(el, "complexType")
    ch = _el(ct, "choice", minOccurs="0", maxOccurs="unbounded")
    for name in sorted(d.datasets):
        _el(ch, "element", ref=name)
    _el(ct, "attribute", name="specVersion", type="xs:string", use="optional")
    _el(ct, "attribute", name="sender", type="xs:string", use="optional")
    _el(ct, "attribute", name="created", type="xs:string", use="optional")
    return _text(root)
