"""A validation issue: what is wrong with one record, precisely enough to fix it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]

ISSUE_KEYS = ("file", "record", "dataset", "field", "rule", "value", "message", "severity")


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

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def clip(value: object, limit: int = 200) -> str:
    """A value for a message: repr-quoted and cut so a 10 MB field does not flood a report."""
    text = value if isinstance(value, str) else repr(value)
    return repr(text if len(text) <= limit else text[:limit] + "…")
