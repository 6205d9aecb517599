"""Step 4 of a sync run (design §2): source rows → mapped data-set records → validation.

Each mapped record carries the row it came from (as JSON, with the input's name and the
data set) so that a record the hub cannot take is quarantined with its *source* form and
can be replayed after the mapping is fixed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, BinaryIO

import orjson

from hub.errors import InputError
from hub.mapping.compiled import DatasetPlan, Mapping
from hub.mapping.rows import Row, read_rows
from hub.validation.decode import RawRecord
from hub.validation.issues import Issue, clip, excuse
from hub.validation.result import RecordResult
from hub.validation.validator import Validator

ROW_FORMAT = "row"  # Quarantine.raw_format of a source row kept for replay


def iter_mapped(
    mapping: Mapping,
    validator: Validator,
    stream: BinaryIO,
    origin: str,
    input_name: str | None = None,
) -> Iterator[RecordResult]:
    """Validated records for one input; InputError if the input or its shape is unusable."""
    rows = read_rows(stream, mapping.input, origin, validator.limits)
    plans = plans_for(mapping, rows.kind or input_name or origin)
    if rows.columns is not None:
        have = set(rows.columns)
        for plan in plans:
            missing = sorted(plan.columns() - have)
            if missing:
                raise InputError(
                    origin,
                    f"columns {missing} that mapping {mapping.name!r} reads for {plan.dataset} "
                    f"are not in the header (it has {rows.columns[:12]}"
                    f"{' ...' if len(rows.columns) > 12 else ''})",
                    code="mapping.columns",
                )
    index = 0
    for row in rows.rows:
        for result in map_row(mapping, validator, origin, row, plans, index):
            index = result.raw.index
            yield result


def plans_for(mapping: Mapping, origin: str) -> list[DatasetPlan]:
    """The [[dataset]] sections that apply to an input; InputError if none does."""
    plans = mapping.plans_for(origin)
    if not plans:
        pats = ", ".join(sorted({p.match for p in mapping.datasets}))
        raise InputError(
            origin,
            f"no [[dataset]] of mapping {mapping.name!r} matches this input "
            f"(its match patterns: {pats})",
            code="mapping.nomatch",
        )
    return plans


def map_row(
    mapping: Mapping,
    validator: Validator,
    origin: str,
    row: Row,
    plans: Sequence[DatasetPlan],
    index: int,
) -> list[RecordResult]:
    """The records of one source row, numbered after ``index``."""
    out = []
    absent = {p.dataset: p.absent for p in plans}
    for m in mapping.map_row(row.values, plans):
        index += 1
        text = orjson.dumps(
            {
                "input": origin,
                "dataset": m.dataset,
                "line": row.line,
                "row": row.values,
                **({"problem": row.problem} if row.problem else {}),
            },
            default=str,
        )
        raw = RawRecord(index, m.dataset, m.fields, op=m.op, key=m.key, line=row.line, text=text)
        where = f"{origin}, record {index}" + (f" (line {row.line})" if row.line else "")
        if row.problem:
            issues = [
                Issue(
                    origin,
                    index,
                    m.dataset,
                    "",
                    "mapping.row",
                    None,
                    f"{where}: the row {row.problem}",
                    "error",
                )
            ]
        elif m.problems:
            issues = [
                Issue(
                    origin,
                    index,
                    m.dataset,
                    p.field,
                    p.rule,
                    p.value,
                    f"{where}, {m.dataset}.{p.field}: {p.message}"
                    + (f" (value {clip(p.value)})" if p.value is not None else ""),
                    "error",
                )
                for p in m.problems
            ]
        else:
            issues = excuse(
                validator.check_json(raw, origin),
                absent.get(m.dataset, frozenset()),
                "mapping.absent",
                f"mapping {mapping.name!r} declares it absent: the source has no such column, "
                "so the record is taken without it (docs/mapping.md)",
            )
        out.append(RecordResult(raw, issues))
    return out


def replay_row(
    mapping: Mapping, validator: Validator, text: str, index: int, source: str
) -> RecordResult | None:
    """Map a quarantined source row again (after a mapping fix); None if the mapping no longer
    maps its data set."""
    obj: dict[str, Any] = orjson.loads(text)
    plans = [p for p in mapping.datasets if p.dataset == obj.get("dataset")]
    if not plans:
        return None
    row = Row(index, obj.get("line"), dict(obj.get("row") or {}), obj.get("problem"))
    results = map_row(
        mapping, validator, str(obj.get("input") or source), row, plans[:1], index - 1
    )
    return results[0]
