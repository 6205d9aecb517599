"""Realistic defects planted in generated records, each with the rule that must report it.

The kinds are the ones provincial hubs guard against (reference §7): a wrong check
character in a credit code, ID number or deal code, a code outside its code set, an
impossible date, a 万元/元 slip that leaves too many decimals, a missing conditional field,
a section code that no longer begins with its tender-project code, a region code that does
not exist, a mandatory field left empty.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hub.dictionary.model import Check, DataSet, FieldKind
from hub.validation import identifiers as ids

if TYPE_CHECKING:
    from hub.generate.generator import Generator, PlantedDefect, Record

Planter = Callable[["Generator", DataSet, dict[str, Any]], tuple[str, str, str] | None]


def _flip_last(value: str, alphabet: str) -> str:
    i = alphabet.index(value[-1]) if value[-1] in alphabet else 0
    return value[:-1] + alphabet[(i + 7) % len(alphabet)]


def _fields(ds: DataSet, rec: dict[str, Any], pred: Callable[[Any], bool]) -> list[str]:
    return [f.id for f in ds.fields if f.id in rec and rec[f.id] and pred(f)]


def uscc_check(g: Generator, ds: DataSet, rec: dict[str, Any]) -> tuple[str, str, str] | None:
    cands = _fields(ds, rec, lambda f: f.check is Check.USCC and not f.multi)
    if not cands:
        return None
    fid = g.rng.choice(cands)
    rec[fid] = _flip_last(rec[fid], ids.USCC_ALPHABET)
    return fid, "check.uscc", rec[fid]


def citizen_check(g: Generator, ds: DataSet, rec: dict[str, Any]) -> tuple[str, str, str] | None:
    cands = _fields(ds, rec, lambda f: f.check is Check.CITIZEN_ID and not f.multi)
    if not cands:
        return None
    fid = g.rng.choice(cands)
    rec[fid] = _flip_last(rec[fid], "0123456789X")
    return fid, "check.citizen_id", rec[fid]


def deal_check(g: Generator, ds: DataSet, rec: dict[str, Any]) -> tuple[str, str, str] | None:
    cands = _fields(ds, rec, lambda f: f.check is Check.DEAL_CODE and not f.multi)
    if not cands:
        return None
    fid = g.rng.choice(cands)
    rec[fid] = _flip_last(rec[fid], ids.MOD37_ALPHABET)
    return fid, "check.deal_code", rec[fid]


def unknown_code(g: Generator, ds: DataSet, rec: dict[str, Any]) -> tuple[str, str, str] | None:
    def closed_single(f: Any) -> bool:
        cs = g.d.codesets.get(f.codeset) if f.codeset else None
        return bool(cs and cs.status == "closed" and not f.multi and len(cs.values) < 300)

    cands = _fields(ds, rec, closed_single)
    if not cands:
        return None
    fid = g.rng.choice(cands)
    f = ds.field(fid)
    assert f is not None and f.codeset
    codes = g.d.codesets[f.codeset].codes
    width = len(rec[fid])
    bad = next(
        c for c in (str(n).zfill(width) for n in range(10**width - 1, -1, -1)) if c not in codes
    )
    rec[fid] = bad
    return fid, "codeset.member", bad


def impossible_date(g: Generator, ds: DataSet, rec: dict[str, Any]) -> tuple[str, str, str] | None:
    cands = _fields(ds, rec, lambda f: f.kind in (FieldKind.DATE, FieldKind.DATETIME))
    if not cands:
        return None
    fid = g.rng.choice(cands)
    v = rec[fid]
    bad = v[:4] + g.rng.choice(["0230", "0431", "1131", "1300"]) + v[8:]
    rec[fid] = bad
    f = ds.field(fid)
    assert f is not None
    return fid, "format.date" if f.kind is FieldKind.DATE else "format.datetime", bad


def unit_slip(g: Generator, ds: DataSet, rec: dict[str, Any]) -> tuple[str, str, str] | None:
    cands = _fields(ds, rec, lambda f: f.kind is FieldKind.DECIMAL and (f.frac_digits or 0) < 9)
    if not cands:
        return None
    fid = g.rng.choice(cands)
    f = ds.field(fid)
    assert f is not None
    # an amount in 元 divided by 10,000 into 万元 without rounding
    whole = int(float(rec[fid])) or 1234567
    bad = f"{whole / 10000:.{(f.frac_digits or 0) + 4}f}"
    rec[fid] = bad
    return fid, "format.amount", bad


def missing_conditional(
    g: Generator, ds: DataSet, rec: dict[str, Any]
) -> tuple[str, str, str] | None:
    for c in ds.conditionals:
        if "" in c.when_values:
            continue
        # a field mandatory anyway is reported as mandatory, not under the conditional
        targets = [r for r in c.require if (f := ds.field(r)) is None or f.required != "Y"]
        if not targets:
            continue
        rec[c.when_field] = c.when_values[0]
        rec.pop(targets[0], None)
        return targets[0], "conditional.required", ""
    return None


def broken_prefix(g: Generator, ds: DataSet, rec: dict[str, Any]) -> tuple[str, str, str] | None:
    for child, parent in ds.prefixes:
        c, p = rec.get(child), rec.get(parent)
        if c and p and ";" not in c:
            pos = len(p) - 2
            ch = "9" if c[pos] != "9" else "8"
            rec[child] = c[:pos] + ch + c[pos + 1 :]
            return child, "code.prefix", rec[child]
    return None


def bad_region(g: Generator, ds: DataSet, rec: dict[str, Any]) -> tuple[str, str, str] | None:
    cands = _fields(
        ds,
        rec,
        lambda f: (
            (f.check is Check.REGION and not f.multi and f.id not in ("REGION_CODE",))
            or f.id == "REGION_CODE"
        ),
    )
    cands = [c for c in cands if c not in ("PROJECT_CODE",)]
    if not cands:
        return None
    fid = g.rng.choice(cands)
    known = g.d.codesets["REGION"].codes
    bad = next(c for c in ("359999", "119999", "989898", "999999") if c not in known)
    rec[fid] = bad
    return fid, "check.region", bad


def empty_required(g: Generator, ds: DataSet, rec: dict[str, Any]) -> tuple[str, str, str] | None:
    keyf = set(ds.business_key) | {"DATA_TIMESTAMP"}
    cands = [
        f.id
        for f in ds.fields
        if f.required == "Y"
        and f.id not in keyf
        and f.id in rec
        and f.kind is FieldKind.TEXT
        and not f.check
        and not f.codeset
    ]
    if not cands:
        return None
    fid = g.rng.choice(cands)
    rec[fid] = ""
    return fid, "required", ""


PLANTERS: dict[str, Planter] = {
    "uscc_check": uscc_check,
    "citizen_id_check": citizen_check,
    "deal_code_check": deal_check,
    "unknown_code": unknown_code,
    "impossible_date": impossible_date,
    "unit_slip": unit_slip,
    "missing_conditional": missing_conditional,
    "broken_prefix": broken_prefix,
    "bad_region": bad_region,
    "empty_required": empty_required,
}


def inject(g: Generator, records: list[Record], rate: float) -> list[PlantedDefect]:
    from hub.generate.generator import PlantedDefect  # noqa: PLC0415

    planted: list[PlantedDefect] = []
    kinds = list(PLANTERS)
    for i, r in enumerate(records, start=1):
        if g.rng.random() >= rate:
            continue
        ds = g.d.datasets[r["dataset"]]
        start = g.rng.randrange(len(kinds))
        for k in kinds[start:] + kinds[:start]:
            got = PLANTERS[k](g, ds, r["record"])
            if got:
                fid, rule, value = got
                planted.append(PlantedDefect(i, ds.name, fid, rule, k, value))
                break
    return planted
