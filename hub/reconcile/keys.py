"""Identity and content of a record: business keys, canonical JSON, content hashes, links.

A business key is the data set's key fields joined with ``|`` in dictionary order
(``hub show SECTION E3501000101001001``; composite keys: ``hub show QUALI_PERSON_QUALI
'350100…|CERT-1'``).  Canonical content is the record's non-empty fields as compact JSON with
sorted keys (UTF-8, no escapes); the content hash is SHA-256 over the operation class
(``put`` for add/modify, ``delete``) and that JSON, so a delete is never a duplicate of the
add it deletes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from hub.dictionary.loader import Dictionary
from hub.dictionary.model import DataSet

KEY_SEP = "|"
DEAL_CODE = "UNIFIED_DEAL_CODE"


def canonical(fields: dict[str, Any]) -> bytes:
    """Sorted-key JSON of the fields that have a value (absent, null and "" are the same)."""
    vals = fields.values()
    if None in vals or "" in vals:
        fields = {k: v for k, v in fields.items() if v is not None and v != ""}
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def content_hash(op: str, canonical_json: bytes) -> str:
    kind = b"delete\n" if op == "delete" else b"put\n"
    return hashlib.sha256(kind + canonical_json).hexdigest()


@dataclass(frozen=True)
class KeyPlan:
    """What reconcile needs to know about one data set."""

    dataset: str
    library: str
    key_fields: tuple[str, ...]
    parent: str | None  # parent data set
    parent_fields: tuple[tuple[str, str], ...]  # (child field, parent field), parent key order
    link_fields: tuple[str, ...]  # fields whose values tie a transaction together
    entity_role: str | None  # ENTITY_ROLE code for role-extension data sets (法人角色)
    role_field: str | None  # a ';' list of roles in the record itself (LEGAL_ROLE)
    entity_code_field: str | None
    depth: int = 0  # parents above it in the dictionary (PROJECT 0, TENDER_PROJECT 1, …)

    def key(self, fields: dict[str, Any]) -> str | None:
        parts = []
        for f in self.key_fields:
            v = fields.get(f)
            if not v or not isinstance(v, str):
                return None
            parts.append(v)
        return KEY_SEP.join(parts)

    def parent_key(self, fields: dict[str, Any]) -> str | None:
        if self.parent is None:
            return None
        parts = []
        for child_field, _ in self.parent_fields:
            v = fields.get(child_field)
            if not v or not isinstance(v, str):
                return None  # no reference given: nothing to wait for
            parts.append(v)
        return KEY_SEP.join(parts)

    def links(self, fields: dict[str, Any]) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for f in self.link_fields:
            v = fields.get(f)
            if v and isinstance(v, str):
                out.extend((f, item) for item in v.split(";") if item)
        return out


def link_fields(d: Dictionary) -> frozenset[str]:
    """Fields that tie a transaction's records together: every parent reference inside the
    transactions library, and the unified deal code."""
    out = {DEAL_CODE}
    for ds in d.datasets.values():
        if ds.parent and d.datasets[ds.parent.dataset].library == "transactions":
            for child_field, parent_field in ds.parent.fields.items():
                out.update((child_field, parent_field))
    return frozenset(out)


def _entity_role(ds: DataSet, d: Dictionary) -> str | None:
    """Role-extension data sets (招标人扩展信息 …) name their role: match ENTITY_ROLE labels."""
    if ds.library != "entities" or "扩展信息" not in ds.name_cn:
        return None
    head = ds.name_cn.split("扩展信息")[0]
    for v in d.codesets["ENTITY_ROLE"].values:
        if head == v.label:
            return v.code
    return None


def _depth(ds: DataSet, d: Dictionary) -> int:
    n, p = 0, ds.parent
    while p is not None and n < len(d.datasets):  # bounded, should the curation loop
        n, p = n + 1, d.datasets[p.dataset].parent
    return n


def key_plans(d: Dictionary) -> dict[str, KeyPlan]:
    links = link_fields(d)
    plans = {}
    for ds in d.datasets.values():
        parent_fields: tuple[tuple[str, str], ...] = ()
        if ds.parent:
            pds = d.datasets[ds.parent.dataset]
            by_parent = {p: c for c, p in ds.parent.fields.items()}
            parent_fields = tuple((by_parent[p], p) for p in pds.business_key if p in by_parent)
            if len(parent_fields) != len(pds.business_key):
                parent_fields = ()  # the reference does not carry the parent's whole key
        role = _entity_role(ds, d)
        role_field = "LEGAL_ROLE" if ds.library == "entities" and ds.field("LEGAL_ROLE") else None
        code_field = (
            next((f for f in ("LEGAL_CODE", "ID_CARD") if ds.field(f)), None)
            if (role or role_field)
            else None
        )
        plans[ds.name] = KeyPlan(
            dataset=ds.name,
            library=ds.library,
            key_fields=ds.business_key,
            parent=ds.parent.dataset if ds.parent and parent_fields else None,
            parent_fields=parent_fields,
            # in every library: a complaint or a performance record belongs to the lifecycle
            # of the section it names; "…CODES" lists link like their singular field
            link_fields=tuple(
                f for f in ds.field_ids if f in links or (f.endswith("CODES") and f[:-1] in links)
            ),
            entity_role=role,
            role_field=role_field,
            entity_code_field=code_field,
            depth=_depth(ds, d),
        )
    return plans
