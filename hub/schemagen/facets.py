"""The constraints of one field that a schema can express, in one place.

XSD, JSON Schema and the hub's own structural checks are all built from these facets, so
the three cannot disagree.  Patterns use a regex subset that means the same in XSD, in
ECMA-262 (JSON Schema) and in Python: ``[0-9]`` not ``\\d`` (which is Unicode-wide in XSD),
no anchors (added per dialect), no look-arounds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.dictionary.model import Check, CodeSet, FieldDef, FieldKind

ENUM_LIMIT = 300  # larger closed sets (GB/T 2260) are checked by a rule, not enumerated
OP_VALUES = ("add", "modify", "delete")

_CHECK_PATTERNS = {
    Check.PLATFORM_ID: "[0-9A-Z]{11}",
    Check.GUID: "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}",
    Check.REGION: "[0-9]{6}",
}
# the 40-character deal code, or the older 36-character form without the trade class (a
# warning of the rule check, hub.validation.identifiers.DEAL_CODE_36)
_DEAL_CODE = "([0-9A-Z]{3}-)?[0-9A-HJ-NPQRTUWXY]{18}-[0-9]{8}-[0-9]{6}-[0-9A-Z*]"


@dataclass(frozen=True)
class Facets:
    required: bool
    max_length: int | None
    fixed_length: int | None
    pattern: str | None  # whole-value pattern, unanchored
    enum: tuple[str, ...] | None
    rule: str  # the rule id a violation of pattern/enum is reported under


def _alt(codes: tuple[str, ...]) -> str:
    return "(" + "|".join(re.escape(c) for c in codes) + ")"


def facets(f: FieldDef, codesets: dict[str, CodeSet]) -> Facets:
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    rule = "format.text"
    fixed = f.fixed_length
    if f.kind is FieldKind.DATE:
        pattern, rule = "[0-9]{8}", "format.date"
    elif f.kind is FieldKind.DATETIME:
        pattern, rule = "[0-9]{14}", "format.datetime"
    elif f.kind is FieldKind.DATETIME_MIN:
        pattern, rule = "[0-9]{12}", "format.datetime"
    elif f.kind is FieldKind.DECIMAL:
        pattern = f"[0-9]{{1,{f.int_digits}}}(\\.[0-9]{{1,{f.frac_digits}}})?"
        rule = "format.amount"
    elif f.kind is FieldKind.INTEGER:
        pattern, rule = f"[0-9]{{1,{f.int_digits}}}", "format.integer"
    elif f.check in _CHECK_PATTERNS and not f.multi and f.fixed_length in (None, 6, 11, 36):
        pattern, rule = _CHECK_PATTERNS[f.check], f"check.{f.check.value}"
    elif f.check is Check.DEAL_CODE and not f.multi and f.fixed_length == 40:
        pattern, rule, fixed = _DEAL_CODE, "check.deal_code", None
    if f.codeset:
        cs = codesets[f.codeset]
        if cs.status == "closed" and len(cs.values) <= ENUM_LIMIT:
            codes = tuple(v.code for v in cs.values)
            if f.multi:
                pattern = f"{_alt(codes)}(;{_alt(codes)})*"
            else:
                enum = codes
            rule = "codeset.member"
        elif cs.pattern and not f.multi:
            pattern, rule = cs.pattern, "codeset.pattern"
    return Facets(
        required=f.required == "Y",
        max_length=f.max_length if fixed is None else None,
        fixed_length=fixed,
        pattern=pattern,
        enum=enum,
        rule=rule,
    )
