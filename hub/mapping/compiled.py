"""A loaded, checked mapping, ready to turn source rows into data-set records."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hub.mapping.model import InputSpec
from hub.mapping.transforms import TransformError

Step = Callable[[Any], Any]
MISSING = object()


@dataclass(frozen=True)
class FieldPlan:
    target: str  # the data-set field
    where: str  # "[dataset TENDER_PROJECT].fields.TENDER_MODE", for messages
    sources: tuple[str, ...]  # source paths; () for a constant
    many: bool  # `from` was a list: the value is a list of the columns' values
    steps: tuple[tuple[str, Step], ...]


@dataclass(frozen=True)
class DatasetPlan:
    dataset: str
    match: str
    key: tuple[str, ...]
    op: str | FieldPlan
    fields: tuple[FieldPlan, ...]
    absent: frozenset[str] = frozenset()  # mandatory fields the source cannot give

    def matches(self, input_name: str) -> bool:
        """On the name, its last path part, or that without its extension (a sample of a
        table ``t_xm`` may be saved as ``t_xm.jsonl``)."""
        base = input_name.rsplit("/", 1)[-1]
        names = (input_name, base, base.rsplit(".", 1)[0])
        return any(fnmatch.fnmatchcase(n, self.match) for n in names)

    def columns(self) -> set[str]:
        cols = {s for f in self.fields for s in f.sources} | set(self.key)
        if isinstance(self.op, FieldPlan):
            cols |= set(self.op.sources)
        return cols


@dataclass
class Problem:
    field: str
    rule: str  # mapping.value
    value: str | None
    message: str


@dataclass
class Mapped:
    dataset: str
    op: str | None
    key: str | None
    fields: dict[str, str]
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Mapping:
    name: str
    path: str
    input: InputSpec
    datasets: tuple[DatasetPlan, ...]

    def plans_for(self, input_name: str) -> list[DatasetPlan]:
        return [p for p in self.datasets if p.matches(input_name)]

    def map_row(self, row: dict[str, Any], plans: Sequence[DatasetPlan]) -> list[Mapped]:
        """One source row → one record per data-set plan (never raises on bad values)."""
        out = []
        for plan in plans:
            m = Mapped(plan.dataset, None, None, {})
            if isinstance(plan.op, str):
                m.op = plan.op
            else:
                op = _run(plan.op, row, m)
                m.op = op if isinstance(op, str) else None
            for fp in plan.fields:
                v = _run(fp, row, m)
                if v is not None:
                    m.fields[fp.target] = v
            if plan.key:
                parts = [lookup(row, k) for k in plan.key]
                m.key = "|".join("" if p in (None, MISSING) else str(p) for p in parts)
            out.append(m)
        return out


def lookup(row: dict[str, Any], path: str) -> Any:
    """A column by its exact name, else a dotted path into nested objects; MISSING if absent."""
    if path in row:
        return row[path]
    cur: Any = row
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return MISSING
        cur = cur[part]
    return cur


def _run(fp: FieldPlan, row: dict[str, Any], m: Mapped) -> str | None:
    if fp.many:
        value: Any = [None if (x := lookup(row, s)) is MISSING else x for s in fp.sources]
    elif fp.sources:
        value = lookup(row, fp.sources[0])
        value = None if value is MISSING else value
    else:
        value = None
    shown = value
    for name, step in fp.steps:
        try:
            value = step(value)
        except TransformError as exc:
            m.problems.append(
                Problem(fp.target, "mapping.value", _show(shown), f"{fp.where}: {name}: {exc}")
            )
            return None
    if value is None or value == "":
        return None
    if isinstance(value, list):
        m.problems.append(
            Problem(
                fp.target,
                "mapping.value",
                _show(shown),
                f"{fp.where}: the steps end with a list {value!r}; expected text "
                "(end with a join step)",
            )
        )
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value != value.to_integral() else str(int(value))
    return value if isinstance(value, str) else str(value)


def _show(v: Any) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else repr(v)
