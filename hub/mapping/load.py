"""Load a TOML mapping: check it against its model, the dictionary and the installed transforms,
and report every problem at once, each with its file and key."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from hub import plugins
from hub.dictionary.loader import Dictionary, load_dictionary
from hub.dictionary.model import DataSet
from hub.errors import ConfigError
from hub.mapping.compiled import DatasetPlan, FieldPlan, Mapping
from hub.mapping.model import DatasetMap, FieldSpec, MappingFile
from hub.mapping.transforms import Codes, Const, Context, Transform
from hub.tomlfile import read_toml

OPS = ("add", "modify", "delete")


@dataclass
class Checked:
    """What ``hub mapping check`` reports: errors stop the mapping from loading."""

    path: Path
    mapping: Mapping | None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_mapping(path: Path, dictionary: Dictionary | None = None) -> Mapping:
    checked = check_mapping(path, dictionary)
    if checked.mapping is None:
        raise ConfigError(checked.errors)
    return checked.mapping


def check_mapping(path: Path, dictionary: Dictionary | None = None) -> Checked:
    out = Checked(path, None)
    try:
        raw = read_toml(path)
    except ConfigError as exc:
        out.errors += exc.problems
        return out
    try:
        mf = MappingFile.model_validate(raw)
    except ValidationError as exc:
        for e in exc.errors():
            loc = _loc(raw, e["loc"])
            out.errors.append(f"{path}: [{loc}] {e['msg']} (got {e.get('input')!r})")
        return out
    d = dictionary or load_dictionary()
    ctx = Context(mf.codes)
    plans = []
    for dm in mf.dataset:
        plan = _plan(path, dm, d, ctx, out)
        if plan is not None:
            plans.append(plan)
    if mf.input.format == "xml" and not mf.input.row:
        out.errors.append(f"{path}: [input.row] xml input needs the element name of one row")
    used = {
        s.get("codes") if isinstance(s.get("codes"), str) else (s.get("codes") or {}).get("table")
        for dm in mf.dataset
        for spec in [*dm.fields.values(), dm.op]
        if isinstance(spec, FieldSpec)
        for s in spec.steps
        if isinstance(s, dict)
    }
    for name in sorted(set(mf.codes) - used):
        out.warnings.append(f"{path}: [codes.{name}] is not used by any field")
    if not out.errors:
        out.mapping = Mapping(mf.mapping.name, str(path), mf.input, tuple(plans))
    return out


def _loc(raw: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """Pydantic's location with data-set positions shown by name: dataset[TENDER_PROJECT]."""
    parts: list[str] = []
    node: Any = raw
    for p in loc:
        if isinstance(p, int) and isinstance(node, list) and p < len(node):
            node = node[p]
            name = node.get("name") if isinstance(node, dict) else None
            parts[-1] = f"{parts[-1]}[{name or p}]"
            continue
        parts.append(str(p))
        node = node.get(p) if isinstance(node, dict) else None
    return ".".join(parts)


def _plan(
    path: Path, dm: DatasetMap, d: Dictionary, ctx: Context, out: Checked
) -> DatasetPlan | None:
    where = f"dataset[{dm.name}]"
    errors_before = len(out.errors)
    ds = d.datasets.get(dm.name)
    if ds is None:
        out.errors.append(
            f"{path}: [{where}.name] {dm.name!r} is not a data set of the dictionary "
            "(`hub dictionary list`)"
        )
        return None
    by_id = {f.id: f for f in ds.fields}
    alias = {a: f.id for f in ds.fields for a in f.aliases}
    plans = []
    for target, spec in dm.fields.items():
        fwhere = f"{where}.fields.{target}"
        fid = alias.get(target, target)
        if fid not in by_id:
            out.errors.append(f"{path}: [{fwhere}] {target!r} is not a field of {dm.name}")
            continue
        fp = _field(path, fwhere, fid, spec, ctx, out, ds, d)
        if fp is not None:
            plans.append(fp)
    mapped = {p.target for p in plans} | {alias.get(t, t) for t in dm.fields}
    missing_key = [k for k in ds.business_key if k not in mapped]
    if missing_key:
        out.errors.append(
            f"{path}: [{where}.fields] the business key of {dm.name} needs "
            f"{', '.join(missing_key)}, which the mapping does not fill"
        )
    sometimes = {r for c in ds.conditionals for r in c.require}
    for name in dm.absent:
        f = by_id.get(alias.get(name, name))
        if f is None or f.id in mapped or (f.required != "Y" and f.id not in sometimes):
            why = (
                f"is not a field of {dm.name}"
                if f is None
                else "is mapped"
                if f.id in mapped
                else "is never mandatory (leave it unmapped)"
            )
            out.errors.append(f"{path}: [{where}.absent] {name!r} {why}")
    for f in ds.fields:
        if f.required == "Y" and f.id not in mapped and f.id not in dm.absent:
            out.warnings.append(
                f"{path}: [{where}.fields] {f.id} ({f.name_cn}) is mandatory and not mapped: "
                "every record will be rejected for it"
            )
    op: str | FieldPlan = "add"
    if isinstance(dm.op, str):
        if dm.op not in OPS:
            out.errors.append(f"{path}: [{where}.op] {dm.op!r} is not one of {', '.join(OPS)}")
        op = dm.op
    else:
        fp = _field(path, f"{where}.op", "op", dm.op, ctx, out, None, d)
        op = fp if fp is not None else "add"
    if len(out.errors) > errors_before:
        return None
    absent = frozenset(alias.get(n, n) for n in dm.absent)
    return DatasetPlan(dm.name, dm.match, tuple(dm.key), op, tuple(plans), absent)


def _field(
    path: Path,
    where: str,
    fid: str,
    spec: str | FieldSpec,
    ctx: Context,
    out: Checked,
    ds: DataSet | None,
    d: Dictionary,
) -> FieldPlan | None:
    if isinstance(spec, str):
        spec = FieldSpec(source=spec)
    raw_steps = list(spec.steps)
    if spec.const is not None:
        if spec.source is not None or raw_steps:
            out.errors.append(f"{path}: [{where}] const stands alone (no from, no steps)")
            return None
        raw_steps = [{"const": spec.const}]
    if spec.source is None and not any(
        isinstance(s, dict) and ("const" in s or "default" in s) for s in raw_steps
    ):
        out.errors.append(f"{path}: [{where}] names no source column (from) and no const")
        return None
    steps = []
    ok = True
    for i, s in enumerate(raw_steps):
        swhere = f"{where}.steps[{i}]"
        if isinstance(s, str):
            name, args = s, None
        elif len(s) == 1:
            ((name, args),) = s.items()
        else:
            out.errors.append(
                f"{path}: [{swhere}] a step is one transform, e.g. {{scale = 10000}}; "
                f"got {sorted(s)}"
            )
            ok = False
            continue
        try:
            cls = plugins.load(plugins.TRANSFORMS, name)
        except ConfigError as exc:
            out.errors.append(f"{path}: [{swhere}] {exc}")
            ok = False
            continue
        if not (isinstance(cls, type) and issubclass(cls, Transform)):
            out.errors.append(f"{path}: [{swhere}] {name!r} is not a transform class")
            ok = False
            continue
        try:
            step = cls.parse(args, ctx)
        except (ValueError, TypeError) as exc:
            out.errors.append(f"{path}: [{swhere}] {name}: {_short(exc)}")
            ok = False
            continue
        if isinstance(step, Codes) and ds is not None:
            _check_codes(d, path, swhere, step, ds, fid, out)
        if isinstance(step, Const) and ds is not None:
            _check_const(d, path, swhere, step.args, ds, fid, out)
        steps.append((name, step))
    if not ok:
        return None
    sources = spec.source
    many = isinstance(sources, list)
    srcs = tuple(sources) if isinstance(sources, list) else (sources,) if sources else ()
    return FieldPlan(fid, where, srcs, many, tuple(steps))


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']} (got {e.get('input')!r})"
            for e in exc.errors()[:3]
        )
    return str(exc)


def _closed_codes(d: Dictionary, ds: DataSet, fid: str) -> set[str] | None:
    f = next((f for f in ds.fields if f.id == fid), None)
    if f is None or not f.codeset:
        return None
    cs = d.codesets.get(f.codeset)
    if cs is None or cs.status != "closed":
        return None
    return {v.code for v in cs.values}


def _check_codes(
    d: Dictionary, path: Path, where: str, step: Codes, ds: DataSet, fid: str, out: Checked
) -> None:
    """A translation table must translate into the national code set of its field."""
    allowed = _closed_codes(d, ds, fid)
    if allowed is None:
        return
    wrong = sorted({v for v in step.table.values() if v not in allowed})
    if wrong:
        out.errors.append(
            f"{path}: [{where}] translates into {', '.join(map(repr, wrong))}, not in the "
            f"national code set of {ds.name}.{fid} (`hub dictionary show {ds.name}`)"
        )


def _check_const(
    d: Dictionary, path: Path, where: str, value: str, ds: DataSet, fid: str, out: Checked
) -> None:
    allowed = _closed_codes(d, ds, fid)
    if allowed is not None and value not in allowed:
        out.errors.append(
            f"{path}: [{where}] {value!r} is not in the national code set of {ds.name}.{fid}"
        )
