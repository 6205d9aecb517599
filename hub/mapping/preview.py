"""``hub mapping preview``: a sample input through a mapping, source and result side by side."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from hub.errors import InputError
from hub.mapping.compiled import MISSING, Mapping, lookup
from hub.mapping.records import map_row, plans_for
from hub.mapping.rows import read_rows
from hub.validation.issues import Issue
from hub.validation.validator import Validator


@dataclass
class Line:
    """One mapped field: where it came from and what it became."""

    target: str
    sources: list[str]
    source_value: Any
    value: str | None
    steps: list[str]


@dataclass
class PreviewRecord:
    index: int
    line: int | None
    dataset: str
    op: str | None
    key: str | None
    source: dict[str, Any]
    mapped: dict[str, str]
    lines: list[Line] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "record": self.index,
            "line": self.line,
            "dataset": self.dataset,
            "op": self.op,
            "key": self.key,
            "source": self.source,
            "mapped": self.mapped,
            "issues": [i.as_dict() for i in self.issues],
        }


def preview(
    mapping: Mapping, sample: Path, validator: Validator, limit: int | None = None
) -> list[PreviewRecord]:
    """Map (and validate) the first ``limit`` rows of ``sample``; InputError if unreadable."""
    name = str(sample)
    plans = plans_for(mapping, sample.name)
    try:
        fh = sample.open("rb")
    except OSError as exc:
        raise InputError(name, f"cannot be read ({exc.strerror})") from exc
    out: list[PreviewRecord] = []
    with fh, contextlib.ExitStack() as stack:
        rows = read_rows(fh, mapping.input, name, validator.limits)
        stack.callback(getattr(rows.rows, "close", lambda: None))
        index = 0
        for row in islice(rows.rows, limit):
            results = map_row(mapping, validator, name, row, plans, index)
            for plan, res in zip(plans, results, strict=True):
                index = res.raw.index
                rec = PreviewRecord(
                    index,
                    row.line,
                    res.raw.dataset,
                    res.raw.op,
                    res.raw.key,
                    row.values,
                    dict(res.raw.fields),
                    issues=res.issues,
                )
                for fp in plan.fields:
                    vals = [lookup(row.values, s) for s in fp.sources]
                    shown = [None if v is MISSING else v for v in vals]
                    rec.lines.append(
                        Line(
                            fp.target,
                            list(fp.sources),
                            shown if fp.many else (shown[0] if shown else None),
                            rec.mapped.get(fp.target),
                            [n for n, _ in fp.steps],
                        )
                    )
                out.append(rec)
    return out
