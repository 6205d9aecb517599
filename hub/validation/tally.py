"""Verdicts without records: a file's report, and the JSONL tally that checks most records
on their parsed objects (``hub validate``; ingest builds a RawRecord per record instead)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.validation import decode
from hub.validation.issues import Issue
from hub.validation.result import RecordResult
from hub.validation.validator import PLAIN_OPS, Validator

_UNSEEN: Any = object()


@dataclass
class FileReport:
    file: str
    format: str
    records: int = 0
    valid: int = 0
    issues: list[Issue] = field(default_factory=list)

    @property
    def by_rule(self) -> Counter[str]:
        return Counter(i.rule for i in self.issues)


def tally_lines(
    validator: Validator,
    lines: list[bytes],
    first_line: int,
    index: int,
    source: str,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int, list[Issue]]:
    """(records, valid records, issues) of JSONL lines numbered from ``first_line``, records
    from ``index + 1``.  A record of a block that passed the strict checks whole, known data
    set, plain operation and no alias is checked on its parsed object as it stands: schema,
    then the fused guards; any other record, or one these find fault with, becomes a
    RawRecord and has its issues worded by ``Validator.check_json``."""
    records = valid = 0
    issues: list[Issue] = []
    fast = validator.fast
    for block in decode.jsonl_blocks(lines, first_line, validator.limits):
        for item in block.items:
            index += 1
            if block.flat:
                obj = item[2]
                name = obj.get("dataset")
                f = fast.get(name, _UNSEEN) if type(name) is str else None
                if f is _UNSEEN:
                    f = validator.fast_checks(name)
                if (
                    f is not None
                    and obj.get("op") in PLAIN_OPS
                    and (f[2] is None or f[2].isdisjoint(obj["record"]))
                    and f[0](rec := obj["record"])
                    and f[1](rec)
                ):
                    records += 1
                    valid += 1
                    continue
            raw = block.record(item, index)
            res = RecordResult(raw, validator.check_json(raw, source))
            records += 1
            valid += res.ok
            issues += res.issues
        if progress is not None:
            progress(len(block.items))
    return records, valid, issues
