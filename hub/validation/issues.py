"""A validation issue: what is wrong with one record, precisely enough to fix it."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, replace
from typing import Literal

Severity = Literal["error", "warning"]

ISSUE_KEYS = ("file", "record", "dataset", "field", "rule", "value", "message", "severity")
VALUE_LIMIT = 1024  # characters of an offending value kept in issues, receipts and the store


def bounded(value: str, limit: int = VALUE_LIMIT) -> str:
    """A value as issues keep it: whole when short; else its start, with the size and the
    SHA-256 of the whole (in UTF-8), so a 200 MB field costs a line, not 200 MB again."""
    if len(value) <= limit:
        return value  # also a value bounded before: the result is never longer than limit
    data = value.encode("utf-8", "surrogatepass")
    tail = f"… [{len(data)} bytes in all, sha256 {hashlib.sha256(data).hexdigest()}]"
    return value[: limit - len(tail)] + tail


@dataclass(frozen=True, slots=True)
class Issue:
    file: str
    record: int  # 1-based position of the record in the file; 0 = the file as a whole
    dataset: str
    field: str
    rule: str
    value: str | None
    message: str
    severity: Severity = "error"

    def __post_init__(self) -> None:
        if self.value is not None and len(self.value) > VALUE_LIMIT:
            object.__setattr__(self, "value", bounded(self.value))

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def clip(value: object, limit: int = 200) -> str:
    """A value for a message: repr-quoted and cut so a 10 MB field does not flood a report."""
    text = value if isinstance(value, str) else repr(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")


MANDATORY = ("required", "conditional.required")  # what a declared-absent field excuses


def excuse(issues: list[Issue], fields: frozenset[str], rule: str, why: str) -> list[Issue]:
    """``issues`` with each ``required`` (or ``conditional.required``) error on one of
    ``fields`` made a warning ``rule``: a mandatory field the source declares it cannot give
    (a mapping's or a province's ``absent``).  The record is taken without it; the warning
    says so, and the quality reports still count it missing."""
    if not fields:
        return issues
    return [
        replace(i, rule=rule, severity="warning", message=f"{i.message}; {why}")
        if i.rule in MANDATORY and i.field in fields and i.severity == "error"
        else i
        for i in issues
    ]
