"""The data dictionary as frozen, validated objects.

A Dictionary holds data sets (one per national table), each with typed fields, plus the
code sets the fields refer to.  Everything here is loaded from files in ``schemas/`` and
never changed afterwards.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldKind(StrEnum):
    TEXT = "text"
    DATE = "date"  # yyyyMMdd
    DATETIME = "datetime"  # yyyyMMddHHmmss
    DATETIME_MIN = "datetime_min"  # yyyyMMddHHmm
    DECIMAL = "decimal"  # N..p,s
    INTEGER = "integer"  # N..p


class Check(StrEnum):
    """Identifier checks a schema cannot express (check characters, tables)."""

    USCC = "uscc"  # GB 32100 unified social credit code
    PARTY_CODE = "party_code"  # USCC, GB 11714 org code, internal code for army/foreign
    PARTY_CODE_OR_PERSON = "party_code_or_person"  # as above, or a GB 11643 citizen ID
    CITIZEN_ID = "citizen_id"  # GB 11643, only when the ID type says 居民身份证
    DEAL_CODE = "deal_code"  # UNIFIED_DEAL_CODE, ISO 7064 MOD 37-2
    REGION = "region"  # GB/T 2260 division exists
    PLATFORM_ID = "platform_id"  # CEB 11-char platform/tool id
    GUID = "guid"  # 8-4-4-4-12


class FieldDef(Frozen):
    id: str
    name_cn: str = ""
    kind: FieldKind = FieldKind.TEXT
    max_length: int | None = None  # characters; None = unbounded (C..ul): parser limits apply
    fixed_length: int | None = None
    int_digits: int | None = None
    frac_digits: int | None = None
    required: Literal["Y", "N", "C"] = "N"
    multi: bool = False  # several values separated by half-width ";"
    codeset: str | None = None
    check: Check | None = None
    pattern: str | None = None  # extra regular expression (XSD dialect-compatible)
    aliases: tuple[str, ...] = ()  # other spellings senders use
    publicity: str = ""
    domain: str = ""
    note: str = ""
    fujian_dict: str = ""
    typed: bool = True  # False: Appendix A gives the identifier only
    trailer: bool = False


class ParentRef(Frozen):
    dataset: str
    # child field -> parent field (the parent's business key)
    fields: dict[str, str]
    # the child's value must begin with the parent's value (CEB code hierarchy)
    prefix: bool = False


class ConditionalRule(Frozen):
    """When ``when_field`` has one of ``when_values``, ``require`` fields must be present.

    An empty string in ``when_values`` means "when the field is absent or empty".
    """

    id: str
    when_field: str
    when_values: tuple[str, ...]
    require: tuple[str, ...]
    source: str = ""


class DataSet(Frozen):
    data_no: str
    name: str
    name_cn: str
    spec_version: str
    domain: str  # 工程建设, 政府采购, 土地, 矿业权, 国有产权, 其他, 主体, 专家, 监管, 信用
    library: Literal["transactions", "entities", "experts", "credit", "supervision"]
    detail: Literal["full", "identifiers only"]
    business_key: tuple[str, ...]
    parent: ParentRef | None = None
    fields: tuple[FieldDef, ...] = Field(default_factory=tuple)
    prefixes: tuple[tuple[str, str], ...] = ()  # (field, must begin with field)
    conditionals: tuple[ConditionalRule, ...] = ()
    source: str = ""
    overlay: str | None = None  # set when a provincial overlay added fields

    def field(self, field_id: str) -> FieldDef | None:
        for f in self.fields:
            if f.id == field_id:
                return f
        return None

    @property
    def field_ids(self) -> tuple[str, ...]:
        return tuple(f.id for f in self.fields)


class CodeValue(Frozen):
    code: str
    label: str
    source: str = ""  # where this value was seen; "inferred" marks an inference
    valid_to: int | None = None  # last year a retired code was in force (GB/T 2260)


class CodeSet(Frozen):
    name: str
    title: str
    spec_ref: str = ""
    status: Literal["closed", "open"]
    values: tuple[CodeValue, ...] = ()
    pattern: str | None = None  # for open sets: the shape a value must have, if known
    provenance: str = ""
    gap: str = ""  # for open sets: what is missing and where it would come from

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(v.code for v in self.values)
