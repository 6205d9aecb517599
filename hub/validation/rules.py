"""Rules a schema cannot express, compiled per data set into small check functions.

Two lists per data set.  ``always`` runs on every record: calendar dates, check characters,
region codes, conditional mandatories, code prefixes, future timestamps.  ``structural``
runs only on a record the schema rejected, to name exactly which field broke which facet
(required, length, format, code set); it is built from the same facets as the schemas.
Every rule id used here is listed in RULES and documented in docs/rules.md.

Speed: each ``always`` check also contributes a *guard*, a few lines of Python that decide
"surely no issue" for its field without a call; the guards of a data set are compiled into
one function, ``DatasetRules.clean``.  A record it passes has no issue from ``always``; any
other record runs the checks themselves, which word the issues.  A guard may send a clean
record to the checks (a value it has not seen), never let a bad one through: the tests
check the guards against the checks on generated defects.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hub.dictionary.loader import Dictionary
from hub.dictionary.model import DataSet, FieldDef, FieldKind
from hub.schemagen.facets import facets
from hub.validation.fieldchecks import field_check
from hub.validation.guards import (
    CST,
    Checked,
    CheckFn,
    Emit,
    Guard,
    RuleSettings,
    always_clean,
)

# rule id -> one-line description (docs/rules.md is checked against this table)
RULES: dict[str, str] = {
    "dataset.unknown": "The record's data set is not in the dictionary.",
    "record.malformed": "The record cannot be read as a record (broken JSON line, wrong shape).",
    "record.op": "The operation is not add, modify or delete.",
    "record.envelope": "The envelope's op or key is not a string (a number, list, object …).",
    "unknown-field": "A field that the data set does not define.",
    "required": "A mandatory field is missing or empty.",
    "length": "Longer than the field's maximum, or not its fixed length.",
    "format.type": "A JSON value that is not a string (amounts travel as decimal strings).",
    "format.text": "Text that does not have the required shape.",
    "format.date": "Not a real calendar date in yyyyMMdd.",
    "format.datetime": "Not a real date and time in yyyyMMddHHmmss (or yyyyMMddHHmm).",
    "format.amount": "More integer or decimal digits than the field allows (N..20,6: 14 and 6).",
    "format.integer": "Not a whole number within the field's digits.",
    "codeset.member": "A code (or one item of a ';' list) not in the field's closed code set.",
    "codeset.pattern": "A code of an open code set that does not have the set's shape.",
    "check.uscc": "GB 32100 unified social credit code: shape or check character wrong.",
    "check.org_code": "GB 11714 organisation code: shape or check character wrong.",
    "check.citizen_id": "GB 11643 citizen ID number: shape, birth date or check character wrong.",
    "check.deal_code": "UNIFIED_DEAL_CODE: 40-char form or ISO 7064 MOD 37-2 check wrong.",
    "check.deal_code_36": "UNIFIED_DEAL_CODE in the older 36-char form without its trade class "
    "(warning).",
    "check.region": "Not a GB/T 2260 administrative division code.",
    "check.region_retired": "A GB/T 2260 code that has been retired (warning).",
    "check.platform_id": "CEB platform/tool identifier: 11 digits or capitals.",
    "check.guid": "Not a GUID of the form 8-4-4-4-12.",
    "conditional.required": "A field the reference makes mandatory under a condition is missing.",
    "code.prefix": "A child code that does not begin with its parent code (CEB B.3).",
    "timestamp.future": "DATA_TIMESTAMP later than the receiving node's clock allows.",
    "schema": "A schema violation the rules above do not name (with the validator's own text).",
}


def _structural_fn(f: FieldDef, d: Dictionary) -> CheckFn:
    fc = facets(f, d.codesets)
    fid = f.id
    is_date = f.kind in (FieldKind.DATE, FieldKind.DATETIME, FieldKind.DATETIME_MIN)
    rx = re.compile(fc.pattern) if fc.pattern and not is_date else None
    enum = frozenset(fc.enum) if fc.enum is not None else None
    label = f.name_cn or fid
    cs = d.codesets[f.codeset] if f.codeset else None
    expected = (
        f"one of {', '.join(sorted(enum)[:12])}{' …' if len(enum) > 12 else ''} ({cs.title})"
        if enum is not None and cs
        else ""
    )
    shape = {
        "format.amount": f"a decimal with at most {f.int_digits} integer and "
        f'{f.frac_digits} decimal digits, e.g. "1234.5"',
        "format.integer": f"a whole number of at most {f.int_digits} digits",
        "codeset.member": f"codes from {cs.title if cs else ''} separated by half-width ';'",
        "codeset.pattern": f"a code shaped {fc.pattern}",
        "check.platform_id": "11 digits or capital letters",
        "check.guid": "a GUID such as 3F2504E0-4F89-11D3-9A0C-0305E82C3301",
        "check.region": "a 6-digit GB/T 2260 code",
    }.get(fc.rule, f"text matching {fc.pattern}")

    def check(rec: dict[str, Any], emit: Emit) -> None:
        v = rec.get(fid)
        if v is None or v == "":
            if fc.required:
                emit(fid, "required", v, f"{label} is mandatory and is missing or empty", "error")
            return
        if not isinstance(v, str):
            emit(
                fid,
                "format.type",
                v,
                f"{label} must be a JSON string, got "
                f"{type(v).__name__}; amounts travel as decimal strings",
                "error",
            )
            return
        n = len(v)
        if fc.fixed_length is not None and n != fc.fixed_length:
            emit(
                fid,
                "length",
                v,
                f"{label} has {n} characters, expected exactly {fc.fixed_length}",
                "error",
            )
            return
        if fc.max_length is not None and n > fc.max_length:
            emit(
                fid,
                "length",
                v,
                f"{label} has {n} characters, expected at most {fc.max_length}",
                "error",
            )
            return
        if enum is not None and v not in enum:
            emit(fid, "codeset.member", v, f"{label} must be {expected}", "error")
        elif rx is not None and not rx.fullmatch(v):
            if fc.rule == "codeset.member":
                bad = [x for x in v.split(";") if not rx.fullmatch(x) and x]
                hint = " (use half-width ';' between codes)" if any(c in v for c in ",，；") else ""
                emit(
                    fid,
                    "codeset.member",
                    ";".join(bad) or v,
                    f"{label} must be {shape}{hint}",
                    "error",
                )
            else:
                emit(fid, fc.rule, v, f"{label} must be {shape}", "error")

    return check


def _conditional_fn(ds: DataSet) -> list[Checked]:
    out: list[Checked] = []
    for c in ds.conditionals:

        def check(rec: dict[str, Any], emit: Emit, c: Any = c) -> None:
            if (rec.get(c.when_field) or "") in c.when_values:
                for r in c.require:
                    if not rec.get(r):
                        when = repr(c.when_values[0]) if c.when_values != ("",) else "empty"
                        emit(
                            r,
                            "conditional.required",
                            None,
                            f"{r} is required when {c.when_field} is {when} ({c.source})",
                            "error",
                        )

        present = " and ".join(f"get({r!r})" for r in c.require) or "True"
        guard = Guard(
            [
                f'if (get({c.when_field!r}) or "") in WHEN{{i}} and not ({present}):',
                "    return False",
            ],
            {"WHEN{i}": c.when_values},
        )
        out.append((check, guard))
    return out


def _prefix_fns(ds: DataSet) -> list[Checked]:
    out: list[Checked] = []
    for child, parent in ds.prefixes:
        multi = bool((f := ds.field(child)) and f.multi) or child.endswith("CODES")

        def check(
            rec: dict[str, Any],
            emit: Emit,
            child: str = child,
            parent: str = parent,
            multi: bool = multi,
        ) -> None:
            c, p = rec.get(child), rec.get(parent)
            if not c or not p or not isinstance(c, str) or not isinstance(p, str):
                return
            for item in c.split(";") if multi else [c]:
                if item and not item.startswith(p):
                    emit(
                        child,
                        "code.prefix",
                        item,
                        f"{child} must begin with {parent} {p!r} (CEB Pt.1 App. B.3)",
                        "error",
                    )

        both = f"c, p = get({child!r}), get({parent!r})"
        if multi:
            lines = [
                both,
                "if type(c) is str and type(p) is str and c and p:",
                '    for x in c.split(";"):',
                "        if x and not x.startswith(p):",
                "            return False",
            ]
        else:
            lines = [
                both,
                "if type(c) is str and type(p) is str and c and p and not c.startswith(p):",
                "    return False",
            ]
        guard = Guard(lines)
        out.append((check, guard))
    return out


def _future_fn(s: RuleSettings) -> Checked:
    last: list[Any] = [None, ""]  # (second, limit string): strftime once per second
    # the guard's bound: a limit the check computed; the real limit only grows with the
    # clock (or is fixed, with settings.now), so a value not above it is surely fine
    seen: list[str] = [""]

    def check(rec: dict[str, Any], emit: Emit) -> None:
        v = rec.get("DATA_TIMESTAMP")
        if not v or not isinstance(v, str):
            return
        second = int(time.time()) if s.now is None else None
        if second is None or second != last[0]:
            now = s.now or datetime.now(UTC)
            last[:] = [second, (now.astimezone(CST) + s.future_skew).strftime("%Y%m%d%H%M%S")]
        limit = seen[0] = last[1]
        if v > limit and v.isdigit():
            emit(
                "DATA_TIMESTAMP",
                "timestamp.future",
                v,
                f"DATA_TIMESTAMP is later than this "
                f"node's clock plus {int(s.future_skew.total_seconds())} s ({limit}, UTC+8)",
                "error",
            )

    guard = Guard(
        [
            'v = get("DATA_TIMESTAMP")',
            "if type(v) is str and v > SEEN{i}[0]:",
            "    return False",
        ],
        {"SEEN{i}": seen},
    )
    return check, guard


@dataclass
class DatasetRules:
    dataset: DataSet
    always: list[CheckFn] = field(default_factory=list)
    structural: list[CheckFn] = field(default_factory=list)
    known_fields: frozenset[str] = frozenset()
    aliases: dict[str, str] = field(default_factory=dict)
    # True when no ``always`` check would emit (the fused guards, see the module text)
    clean: Callable[[dict[str, Any]], bool] = lambda rec: False


def compile_rules(ds: DataSet, d: Dictionary, s: RuleSettings) -> DatasetRules:
    r = DatasetRules(
        dataset=ds,
        known_fields=frozenset(ds.field_ids),
        aliases={a: f.id for f in ds.fields for a in f.aliases},
    )
    checked: list[Checked] = []
    for f in ds.fields:
        c = field_check(f, d, s, ds)
        if c is not None:
            checked.append(c)
        r.structural.append(_structural_fn(f, d))
    checked += _conditional_fn(ds)
    checked += _prefix_fns(ds)
    if "DATA_TIMESTAMP" in r.known_fields:
        checked.append(_future_fn(s))
    r.always = [fn for fn, _ in checked]
    r.clean = always_clean(ds.name, [g for _, g in checked])
    return r
