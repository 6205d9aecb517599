"""Build the dictionary files in ``schemas/`` from Appendix A data and the curation overlay.

Inputs: the appendix as JSON (``schemas/reference/appendix-a-v2.0.json``), the curation
``schemas/curation/v2.0.toml``, ``schemas/codesets/national.toml``, GB/T 2260 codes from
python-stdnum's ``cn/loc.dat`` and GB/T 12406 / GB/T 2659 (= ISO 4217 / ISO 3166-1 numeric)
from pycountry.  Output: one JSON file per data set and one ``codesets.json``; the run is
deterministic, so re-importing the same inputs gives byte-identical files (a test checks it).
"""

from __future__ import annotations

import csv
import importlib.resources
import json
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hub.dictionary.formats import parse_format
from hub.dictionary.model import CodeSet, CodeValue, DataSet, FieldDef
from hub.dictionary.paths import schemas_dir
from hub.errors import ConfigError

_REGION_LINE = re.compile(r'^(\s*)(\d{2}|\d{4}) \w+="(.*)"$')
_REGION_NAME = re.compile(r"^(?:\[(\d*)-(\d*)\])?(.*)$")
MCA_CSV = ("reference", "gbt2260", "areacodes.csv")


def mca_regions() -> dict[str, CodeValue]:
    """GB/T 2260 codes from 民政部's yearly lists, 1981 on (schemas/reference/gbt2260/, its
    provenance in schemas/reference/README.md): current if any row of the code is 在用, else
    retired in the last year its rows give."""
    path = schemas_dir().joinpath(*MCA_CSV)
    values: dict[str, CodeValue] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            code, name, status, end = row["代码"], row["名称"], row["状态"], row["变更/弃用时间"]
            prev = values.get(code)
            if status == "在用":
                values[code] = CodeValue(code=code, label=name)
            elif prev is None or (prev.valid_to is not None and int(end) > prev.valid_to):
                values[code] = CodeValue(code=code, label=name, valid_to=int(end))
    return values


def stdnum_regions() -> dict[str, CodeValue]:
    """GB/T 2260 codes as python-stdnum's table has them.  A line may name a code's
    successive names with their years (``[-1991]东郊区,[1992-]东丽区``): the code is current
    when one of them has no end, else retired in the last end given."""
    text = importlib.resources.files("stdnum.cn").joinpath("loc.dat").read_text("utf-8")
    values: dict[str, CodeValue] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = _REGION_LINE.match(line)
        if not m:
            raise ConfigError(f"stdnum cn/loc.dat: cannot read line {line!r}")
        indent, num, names = m.groups()
        if not indent:
            province = num
            code = num + "0000"
        else:
            code = province + num
        parts = [m.groups() for p in names.split(",") if (m := _REGION_NAME.match(p))]
        ends = [int(end) if end else None for _start, end, _name in parts]
        valid_to = None if None in ends else max(e for e in ends if e is not None)
        label = parts[-1][2]
        prev = values.get(code)
        # one code may appear twice (retired, then reused): keep the current one
        if prev is None or (prev.valid_to is not None and valid_to is None):
            values[code] = CodeValue(code=code, label=label, valid_to=valid_to)
    return values


def region_codeset() -> CodeSet:
    """GB/T 2260 division codes: 民政部's lists, plus the codes they do not carry (the 市辖区
    placeholders GB/T 2260 keeps) from python-stdnum's table."""
    values = stdnum_regions()
    values.update(mca_regions())
    return CodeSet(
        name="REGION",
        title="中华人民共和国行政区划代码",
        spec_ref="GB/T 2260",
        status="closed",
        values=tuple(values[c] for c in sorted(values)),
        provenance=(
            "民政部 中华人民共和国县级以上行政区划代码 1981-2024 (schemas/reference/gbt2260/"
            "areacodes.csv: yescallop/areacodes result.csv, CC0, commit eed219a0); the codes it "
            "does not list from python-stdnum cn/loc.dat; retired codes carry valid_to"
        ),
    )


def currency_codeset() -> CodeSet:
    import pycountry  # noqa: PLC0415  (import-time only dependency of the importer)

    vals = sorted(
        (CodeValue(code=c.numeric, label=f"{c.alpha_3} {c.name}") for c in pycountry.currencies),
        key=lambda v: v.code,
    )
    return CodeSet(
        name="CURRENCY",
        title="币种代码（数字）",
        spec_ref="GB/T 12406 (= ISO 4217 numeric)",
        status="closed",
        values=tuple(vals),
        provenance=f"pycountry {pycountry.__name__} ISO 4217 data; CNY = 156",
    )


def country_codeset() -> CodeSet:
    import pycountry  # noqa: PLC0415

    vals = sorted(
        (CodeValue(code=c.numeric, label=f"{c.alpha_3} {c.name}") for c in pycountry.countries),
        key=lambda v: v.code,
    )
    return CodeSet(
        name="COUNTRY",
        title="世界各国和地区名称代码（数字）",
        spec_ref="GB/T 2659 (= ISO 3166-1 numeric)",
        status="closed",
        values=tuple(vals),
        provenance="pycountry ISO 3166-1 data; China = 156",
    )


def load_national_codesets(path: Path) -> list[CodeSet]:
    raw = tomllib.loads(path.read_text("utf-8"))
    out = []
    for name, raw_body in raw.items():
        body = dict(raw_body)
        body["values"] = tuple(CodeValue(**v) for v in body.get("values", []))
        out.append(CodeSet(name=name, **body))
    return out


class _Binder:
    def __init__(self, binds: list[dict[str, str]], multi_markers: list[str]) -> None:
        self.binds = binds
        self.multi_markers = multi_markers

    def bind(self, fid: str, domain: str, fj_dict: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for b in self.binds:
            if (
                ("dict" in b and b["dict"] == fj_dict)
                or ("domain" in b and b["domain"] in domain)
                or ("id" in b and b["id"] == fid)
            ):
                key = "codeset" if "codeset" in b else "check"
                if key not in out:
                    out[key] = b[key]
        if any(m in domain for m in self.multi_markers):
            out["multi"] = True
        return out


def _field(raw: dict[str, str], binder: _Binder, fix: dict[str, str] | None) -> dict[str, Any]:
    fix = fix or {}
    fmt = fix.get("format", raw.get("format", ""))
    domain = fix.get("domain", raw.get("domain", ""))
    req = raw.get("required", "")
    f: dict[str, Any] = {
        "id": fix.get("rename", raw["id"]),
        "name_cn": raw.get("name_cn", ""),
        "required": {"Y": "Y", "cond.": "C"}.get(req, "N"),
        "publicity": raw.get("publicity", ""),
        "domain": domain,
        "note": raw.get("note", ""),
        "fujian_dict": raw.get("fujian_dict", ""),
    }
    f.update(parse_format(fmt))
    f.update(binder.bind(raw["id"], domain, raw.get("fujian_dict", "")))
    if "check" in fix:
        if fix["check"]:
            f["check"] = fix["check"]
        else:
            f.pop("check", None)
    if "alias" in fix:
        f["aliases"] = [fix["alias"]]
    return f


def build(tables_json: Path, schemas: Path) -> tuple[list[DataSet], list[CodeSet]]:
    """Read every input and return the data sets and code sets (validated objects)."""
    appendix = json.loads(tables_json.read_text("utf-8"))
    cur = tomllib.loads((schemas / "curation" / "v2.0.toml").read_text("utf-8"))
    binder = _Binder(cur["bind"], cur["multi"]["markers"])
    problems: list[str] = []

    full_defs: dict[str, dict[str, Any]] = {}  # for identifiers-only tables: typed elsewhere
    datasets: list[DataSet] = []
    for t in appendix["tables"]:
        if t["detail"] != "full":
            continue
        for raw in t["fields"]:
            full_defs.setdefault(raw["id"], raw)

    for t in appendix["tables"]:
        name, no = t["name"], int(t["data_no"])
        rng = [r for r in cur["range"] if r["from"] <= no <= r["to"]]
        if not rng:
            problems.append(f"{name}: DATA_NO {no} falls in no [[range]] of the curation file")
            continue
        r = min(rng, key=lambda r: r["to"] - r["from"])  # the narrowest range wins
        fixes = cur.get("fixes", {}).get(name, {})
        fields: dict[str, dict[str, Any]] = {}
        for raw in t["fields"]:
            if t["detail"] == "full":
                f = _field(raw, binder, fixes.get(raw["id"]))
            elif raw["id"] in full_defs:
                f = _field(full_defs[raw["id"]], binder, None)
                f.update(
                    required="N",
                    typed=False,
                    note="type taken from the same identifier "
                    "in a fully defined table; Appendix A gives the identifier only",
                )
            else:
                f = {
                    "id": raw["id"],
                    "typed": False,
                    "note": "Appendix A gives the identifier only",
                }
            fields.setdefault(f["id"], f)  # the workbook repeats a few rows (212, 1800)
        trailers = cur.get("trailer_fields", {}).get(name, t["trailer_fields"])
        for tid in dict.fromkeys(trailers):
            spec = dict(cur["trailer"][tid])
            f = {"id": tid, "name_cn": spec["name_cn"], "required": "Y", "trailer": True}
            f.update(parse_format(spec["format"]))
            if "check" in spec:
                f["check"] = spec["check"]
            fields[tid] = f
        for fid, alts in cur.get("aliases", {}).items():
            if fid in fields:
                fields[fid]["aliases"] = sorted({*fields[fid].get("aliases", []), *alts})
        key = cur["keys"].get(name)
        if not key:
            problems.append(f"{name}: no business key in [keys]")
            continue
        missing = [k for k in key if k not in fields]
        if missing:
            problems.append(f"{name}: business key fields {missing} are not fields of the table")
        parent = cur["parents"].get(name)
        prefixes = [
            (a, b)
            for a, b in cur["prefix"]["rules"]
            if a in fields and b in fields and name not in cur["prefix"]["exempt"]
        ]
        conds = [
            {k: v for k, v in c.items() if k != "datasets"}
            for c in cur["conditional"]
            if name in c["datasets"]
        ]
        for c in conds:
            for fid in [c["when_field"], *c["require"]]:
                if fid not in fields:
                    problems.append(f"{name}: conditional {c['id']} names unknown field {fid}")
        try:
            datasets.append(
                DataSet(
                    data_no=t["data_no"],
                    name=name,
                    name_cn=t["name_cn"],
                    spec_version=cur["spec_version"],
                    domain=r["domain"],
                    library=r["library"],
                    detail=t["detail"],
                    business_key=tuple(key),
                    parent=parent,
                    fields=tuple(FieldDef(**f) for f in fields.values()),
                    prefixes=tuple(prefixes),
                    conditionals=tuple(conds),
                    source=f"Appendix A {t['data_no']} {name} ({t['group']})",
                )
            )
        except ValueError as exc:
            problems.append(f"{name}: {exc}")

    codesets = load_national_codesets(schemas / "codesets" / "national.toml")
    codesets += [region_codeset(), currency_codeset(), country_codeset()]
    names = {c.name for c in codesets}
    for ds in datasets:
        for fd in ds.fields:
            if fd.codeset and fd.codeset not in names:
                problems.append(f"{ds.name}.{fd.id}: unknown code set {fd.codeset}")
    if problems:
        raise ConfigError(problems)
    return datasets, codesets


def _dump(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=False) + "\n"


def render(datasets: Iterable[DataSet], codesets: Iterable[CodeSet]) -> dict[str, str]:
    """Relative path -> file text for everything the importer writes."""
    files: dict[str, str] = {}
    for ds in datasets:
        files[f"datasets/{ds.name}.json"] = _dump(ds.model_dump(mode="json", exclude_defaults=True))
    files["codesets.json"] = _dump(
        [c.model_dump(mode="json", exclude_defaults=True) for c in codesets]
    )
    return files


def write(files: dict[str, str], out_dir: Path) -> list[Path]:
    written = []
    for rel, text in sorted(files.items()):
        path = out_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        written.append(path)
    return written
