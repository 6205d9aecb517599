"""Provincial overlays: data sets and fields a province adds to the national dictionary.

An overlay is a TOML file in ``schemas/overlays/`` (``fujian.toml``: Fujian's 9001–9021).  It
may add data sets (``[[dataset]]``) and add fields to national data sets (``[[extend]]``); it
never changes or removes what the national dictionary defines, and a name, DATA_NO or field
that collides is a configuration error, not a silent override.

A field is written ``["ID", "中文名"]`` (or with a third element, a note).  Its definition:
the one the national dictionary gives that identifier (the most common one, where tables
differ), else untyped text (``typed = false``), because the provincial sources give names, not
types.  Required are the data set's business key and the trailer fields; the rest is optional.
A field may instead be a full table of ``FieldDef`` keys, for an overlay that knows its types.
"""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError

from hub.dictionary.model import DataSet, FieldDef, Frozen, ParentRef
from hub.errors import ConfigError

TRAILER = ("PLATFORM_CODE", "PUB_SERVICE_PLAT_CODE", "DATA_TIMESTAMP")
# the CEB code hierarchy (national-data-spec §3.3): a code begins with its parent's code
HIERARCHY = (("TENDER_PROJECT_CODE", "PROJECT_CODE"), ("BID_SECTION_CODE", "TENDER_PROJECT_CODE"))

Library = Literal["transactions", "entities", "experts", "credit", "supervision"]
FieldSpec = tuple[str, str] | tuple[str, str, str] | FieldDef


class OverlayParent(Frozen):
    dataset: str
    fields: dict[str, str]  # child field -> parent field


class OverlayDataSet(Frozen):
    data_no: str
    name: str
    name_cn: str
    key: tuple[str, ...] = Field(min_length=1)
    parent: OverlayParent | None = None
    domain: str | None = None  # default: the overlay's
    library: Library | None = None
    fields: tuple[FieldSpec, ...] = Field(min_length=1)


class OverlayExtension(Frozen):
    dataset: str  # a national data set
    fields: tuple[FieldSpec, ...] = Field(min_length=1)


class Overlay(Frozen):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]*$")
    title: str
    spec_version: str
    source: str
    domain: str
    library: Library
    dataset: tuple[OverlayDataSet, ...] = ()
    extend: tuple[OverlayExtension, ...] = ()


def overlays_dir(schemas: Path) -> Path:
    return schemas / "overlays"


def available(schemas: Path) -> list[str]:
    return sorted(p.stem for p in overlays_dir(schemas).glob("*.toml"))


def read_overlay(schemas: Path, name: str) -> Overlay:
    path = overlays_dir(schemas) / f"{name}.toml"
    if not path.is_file():
        known = ", ".join(available(schemas)) or "none"
        raise ConfigError(f"no provincial overlay {name!r} ({path} is missing); known: {known}")
    try:
        ov = Overlay.model_validate(tomllib.loads(path.read_text("utf-8")))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from exc
    except ValidationError as exc:
        raise ConfigError(
            [f"{path}: [{'.'.join(str(p) for p in e['loc'])}] {e['msg']}" for e in exc.errors()]
        ) from exc
    if ov.name != name:
        raise ConfigError(f"{path}: declares name {ov.name!r}; the file must be named {ov.name}")
    return ov


_SHAPE = {  # what typing a field means: everything but its name, notes and required flag
    "kind",
    "max_length",
    "fixed_length",
    "int_digits",
    "frac_digits",
    "multi",
    "codeset",
    "check",
    "pattern",
    "typed",
}


def national_definitions(datasets: dict[str, DataSet]) -> dict[str, FieldDef]:
    """Each field identifier's most common national definition (ties: the first table)."""
    counts: dict[str, Counter[str]] = {}
    example: dict[tuple[str, str], FieldDef] = {}
    for ds in sorted(datasets.values(), key=lambda x: int(x.data_no)):
        for f in ds.fields:
            shape = f.model_dump_json(include=_SHAPE)
            counts.setdefault(f.id, Counter())[shape] += 1
            example.setdefault((f.id, shape), f)
    return {fid: example[fid, c.most_common(1)[0][0]] for fid, c in counts.items()}


def _field(spec: FieldSpec, key: tuple[str, ...], known: dict[str, FieldDef], ov: str) -> FieldDef:
    if isinstance(spec, FieldDef):
        return spec
    fid, name_cn, *note = spec
    required: Literal["Y", "N"] = "Y" if fid in key or fid in TRAILER else "N"
    base = known.get(fid)
    origin = f"{ov} overlay" + (f"; {note[0]}" if note else "")
    if base is None:
        return FieldDef(id=fid, name_cn=name_cn, required=required, typed=False, note=origin)
    return base.model_copy(
        update={
            "name_cn": name_cn,
            "required": required,
            "note": f"{origin}; definition of the national field {fid}",
            "aliases": (),
            "publicity": "",
            "fujian_dict": "",
        }
    )


def apply_overlay(
    datasets: dict[str, DataSet], ov: Overlay, spec_version: str
) -> dict[str, DataSet]:
    """The national data sets with ``ov``'s additions; ConfigError on any collision."""
    where = f"overlay {ov.name}"
    if ov.spec_version != spec_version:
        raise ConfigError(
            f"{where} is written for spec V{ov.spec_version}; this dictionary is V{spec_version}"
        )
    out = dict(datasets)
    known = national_definitions(datasets)
    problems: list[str] = []
    numbers = {d.data_no: d.name for d in datasets.values()}
    for ext in ov.extend:
        ds = out.get(ext.dataset)
        if ds is None:
            problems.append(f"{where}: extends {ext.dataset!r}, which is not a national data set")
            continue
        # an added field is optional: national senders do not send it
        added = tuple(
            _field(s, (), known, ov.name).model_copy(update={"required": "N"}) for s in ext.fields
        )
        clash = [f.id for f in added if ds.field(f.id)]
        if clash:
            problems.append(f"{where}: {ext.dataset} already has {', '.join(clash)}")
            continue
        out[ext.dataset] = ds.model_copy(update={"fields": ds.fields + added, "overlay": ov.name})
    for x in ov.dataset:
        if x.name in out or x.data_no in numbers:
            other = x.name if x.name in out else numbers[x.data_no]
            problems.append(f"{where}: {x.data_no} {x.name} collides with data set {other}")
            continue
        fields = tuple(_field(s, x.key, known, ov.name) for s in x.fields)
        ids = [f.id for f in fields]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        missing = [k for k in x.key if k not in ids]
        if dup or missing:
            problems.append(
                f"{where}: {x.name}: "
                + "; ".join(
                    ([f"fields listed twice: {', '.join(dup)}"] if dup else [])
                    + (
                        [f"key fields not among its fields: {', '.join(missing)}"]
                        if missing
                        else []
                    )
                )
            )
            continue
        parent = None
        if x.parent is not None:
            pds = out.get(x.parent.dataset)
            if pds is None or set(x.parent.fields.values()) != set(pds.business_key):
                problems.append(
                    f"{where}: {x.name}: parent {x.parent.dataset} must be a data set whose "
                    f"business key is exactly {sorted(x.parent.fields.values())}"
                )
                continue
            parent = ParentRef(dataset=x.parent.dataset, fields=x.parent.fields)
        single = {f.id for f in fields if not f.multi}
        out[x.name] = DataSet(
            data_no=x.data_no,
            name=x.name,
            name_cn=x.name_cn,
            spec_version=spec_version,
            domain=x.domain or ov.domain,
            library=x.library or ov.library,
            detail="full" if all(f.typed for f in fields) else "identifiers only",
            business_key=x.key,
            parent=parent,
            fields=fields,
            prefixes=tuple((c, p) for c, p in HIERARCHY if c in single and p in ids),
            source=ov.source,
            overlay=ov.name,
        )
        numbers[x.data_no] = x.name
    if problems:
        raise ConfigError(problems)
    return out
