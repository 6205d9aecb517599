"""The mapping file as data: what a TOML mapping may say (docs/mapping.md).

One file per source system.  ``[input]`` says how its exports are read, ``[codes.NAME]``
tables translate local code values, and each ``[[dataset]]`` maps the inputs it ``match``-es
to one data set of the dictionary: ``fields`` name a source column (a plain string) or a
table ``{from = ..., steps = [...]}`` whose steps are named transforms.  No expressions.
"""

from __future__ import annotations

import codecs
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class MappingMeta(_Frozen):
    name: str = Field(min_length=1, max_length=100)
    system: str = ""  # the source system, in words
    spec_version: str = "2.0"


class InputSpec(_Frozen):
    format: Literal["csv", "json", "jsonl", "xml"]
    encoding: str = "utf-8"  # csv: utf-8 (a BOM is allowed), gbk, gb18030 ...
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    records: str = ""  # json: dotted path to the array of rows ("" = the document or .records)
    # xml: the element name of one row (required for xml); "." = the document element is the
    # one row, and a [[dataset]]'s match is then matched against its name
    row: str = ""

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, v: str) -> str:
        try:
            info = codecs.lookup(v)
        except LookupError:
            raise ValueError(f"unknown text encoding {v!r}; expected e.g. utf-8, gbk") from None
        if not getattr(info, "_is_text_encoding", True):  # zlib_codec, base64_codec, rot13 …
            raise ValueError(f"{v!r} is a codec but not a text encoding; expected e.g. utf-8, gbk")
        return v


Step = str | dict[str, Any]  # "trim" or {scale = 10000}: one key, the transform's name


class FieldSpec(_Frozen):
    source: str | list[str] | None = Field(default=None, alias="from")
    steps: list[Step] = Field(default_factory=list)
    const: str | None = None  # shortcut for steps = [{const = "..."}]


class DatasetMap(_Frozen):
    name: str  # the data set (dictionary name, e.g. TENDER_PROJECT)
    match: str = "*"  # which inputs: a glob on the file name, or the table name for sql
    key: list[str] = Field(default_factory=list)  # the source's own key columns (sender key)
    op: str | FieldSpec = "add"  # a constant operation or a field that carries it
    # mandatory fields the source has no column for: taken without them, each with the
    # warning mapping.absent (never filled in)
    absent: list[str] = Field(default_factory=list)
    fields: dict[str, str | FieldSpec]


class MappingFile(_Frozen):
    mapping: MappingMeta
    input: InputSpec
    codes: dict[str, dict[str, str]] = Field(default_factory=dict)
    dataset: list[DatasetMap] = Field(min_length=1)
