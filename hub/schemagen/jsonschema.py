"""JSON Schema 2020-12 for each data set's record object and for the JSONL envelope."""

from __future__ import annotations

from typing import Any

from hub.dictionary.loader import Dictionary
from hub.dictionary.model import DataSet
from hub.schemagen.facets import OP_VALUES, facets

DRAFT = "https://json-schema.org/draft/2020-12/schema"
ID_BASE = "urn:ggzy-exchange-hub:schema"


def schema_id(spec_version: str, name: str) -> str:
    return f"{ID_BASE}:v{spec_version}:{name}"


def dataset_schema(ds: DataSet, d: Dictionary) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in ds.fields:
        fc = facets(f, d.codesets)
        p: dict[str, Any] = {"type": "string"} if fc.required else {"type": ["string", "null"]}
        if f.name_cn:
            p["title"] = f.name_cn
        if fc.fixed_length is not None:
            p["maxLength"] = fc.fixed_length
            if fc.required:
                p["minLength"] = fc.fixed_length
            elif fc.pattern is None and fc.enum is None:
                p["pattern"] = f"^(?:.{{{fc.fixed_length}}})?$"
        elif fc.max_length is not None:
            p["maxLength"] = fc.max_length
        if fc.required and fc.fixed_length is None:
            p["minLength"] = 1
        if fc.pattern:
            p["pattern"] = f"^(?:{fc.pattern})$" if fc.required else f"^(?:{fc.pattern})?$"
        if fc.enum is not None:
            p["enum"] = list(fc.enum) if fc.required else [*fc.enum, "", None]
        props[f.id] = p
        if fc.required:
            required.append(f.id)
    return {
        "$schema": DRAFT,
        "$id": schema_id(d.profile, ds.name),
        "title": f"{ds.data_no} {ds.name} {ds.name_cn}",
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }


def envelope_schema(d: Dictionary) -> dict[str, Any]:
    """One JSONL line, or one element of a JSON batch's ``records`` array."""
    names = sorted(d.datasets)
    return {
        "$schema": DRAFT,
        "$id": schema_id(d.profile, "record"),
        "title": "One record with its data set, operation and sender key",
        "type": "object",
        "required": ["dataset", "record"],
        "properties": {
            "dataset": {"enum": names},
            "op": {"enum": list(OP_VALUES)},
            "key": {"type": "string", "minLength": 1, "maxLength": 64},
            "record": {"type": "object"},
        },
        "additionalProperties": False,
        "allOf": [
            {
                "if": {"properties": {"dataset": {"const": n}}},
                "then": {"properties": {"record": {"$ref": schema_id(d.profile, n)}}},
            }
            for n in names
        ],
    }


def batch_schema(d: Dictionary) -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "$id": schema_id(d.profile, "batch"),
        "title": "A JSON batch document",
        "type": "object",
        "required": ["records"],
        "properties": {
            "spec_version": {"type": "string"},
            "sender": {"type": "string"},
            "created": {"type": "string"},
            "records": {"type": "array", "items": {"$ref": schema_id(d.profile, "record")}},
        },
        "additionalProperties": False,
    }
