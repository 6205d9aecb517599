"""One record's verdict as validation gives it: the record as decoded and its issues."""

from __future__ import annotations

from dataclasses import dataclass

from hub.validation.decode import RawRecord
from hub.validation.issues import Issue


@dataclass(slots=True)
class RecordResult:
    raw: RawRecord
    issues: list[Issue]

    @property
    def ok(self) -> bool:
        return not self.issues or not any(i.severity == "error" for i in self.issues)
