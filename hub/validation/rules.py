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

import functools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, cast

from hub.dictionary.loader import Dictionary
from hub.dictionary.model import Check, DataSet, FieldDef, FieldKind
from hub.schemagen.facets import facets
from hub.validation import identifiers as ids
from hub.validation.issues import Severity

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
    "check.region": "Not a GB/T 2260 administrative division code.",
    "check.region_retired": "A GB/T 2260 code that has been retired (warning).",
    "check.platform_id": "CEB platform/tool identifier: 11 digits or capitals.",
    "check.guid": "Not a GUID of the form 8-4-4-4-12.",
    "conditional.required": "A field the reference makes mandatory under a condition is missing.",
    "code.prefix": "A child code that does not begin with its parent code (CEB B.3).",
    "timestamp.future": "DATA_TIMESTAMP later than the receiving node's clock allows.",
    "schema": "A schema violation the rules above do not name (with the validator's own text).",
}

_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
CST = timezone(timedelta(hours=8))

Emit = Callable[[str, str, Any, str, Severity], None]  # field, rule, value, message, severity
CheckFn = Callable[[dict[str, Any], Emit], None]


@dataclass
class Guard:
    """Source lines that ``return False`` unless the check surely finds nothing; ``get`` is
    ``rec.get``.  Names in ``names`` are bound for the lines; ``{i}`` in a line or a name
    becomes the check's number, so guards of one data set never share a name."""

    lines: list[str]
    names: dict[str, Any] = field(default_factory=dict)


Checked = tuple[CheckFn, Guard]


_GOOD_DAYS: set[str] = set()
_HOURS = frozenset(f"{h:02d}" for h in range(24))
_MINUTES = frozenset(f"{m:02d}" for m in range(60))
_MINSECS = frozenset(f"{m:02d}{s:02d}" for m in range(60) for s in range(60))
_MISS: tuple[str, str] = ("", "")  # cache sentinel
# per check: enough for the values a batch repeats (its parties, dates, regions); unique
# values (deal codes, timestamps) gain nothing, and a larger cap makes memory grow with the
# batch (measured: 1M records peaked 1.21x the 100k peak with 100k-entry caches)
CACHE_ENTRIES = 8192
# and for all identifier checks together: one cache per checked field of every data set
# (hundreds) each filling to CACHE_ENTRIES made a validating process grow with the input
# (measured: +14 MB from 100k to 300k records) until every cache was full
CACHE_TOTAL = 65_536


class _Budget:
    """Entries the identifier-verdict caches of this process may still add; a cache that
    finds it spent (or is itself full) empties itself first, so memory stays bounded while
    the values that repeat keep being remembered."""

    left = CACHE_TOTAL


@functools.lru_cache(maxsize=CACHE_ENTRIES)
def date_problem(value: str, kind: FieldKind) -> str | None:
    n = {FieldKind.DATE: 8, FieldKind.DATETIME: 14, FieldKind.DATETIME_MIN: 12}[kind]
    fmt = {8: "yyyyMMdd", 14: "yyyyMMddHHmmss", 12: "yyyyMMddHHmm"}[n]
    if len(value) != n or not value.isascii() or not value.isdigit():
        return f"expected {fmt} ({n} digits)"
    y, m, d = int(value[:4]), int(value[4:6]), int(value[6:8])
    if y < 1900 or not 1 <= m <= 12 or not 1 <= d <= _DAYS[m]:
        return f"expected a real calendar date in {fmt}"
    if m == 2 and d == 29 and not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
        return f"expected a real calendar date in {fmt}; {y} is not a leap year"
    _GOOD_DAYS.add(value[:8])  # bounded: 1900-9999 has at most 3 million days
    if n > 8:
        hh, mi = int(value[8:10]), int(value[10:12])
        ss = int(value[12:14]) if n == 14 else 0
        if hh > 23 or mi > 59 or ss > 59:
            return f"expected a real time of day in {fmt}"
    return None


@dataclass(frozen=True)
class RuleSettings:
    """Node-level choices for rules whose inputs the reference leaves open."""

    citizen_id_types: frozenset[str] = frozenset({"01"})  # ID_CARD_TYPE values = 居民身份证
    now: datetime | None = None  # fixed clock for tests; None = the real clock
    future_skew: timedelta = timedelta(minutes=5)


def _items(f: FieldDef, value: str) -> list[str]:
    return value.split(";") if f.multi else [value]


def _check_fn(f: FieldDef, d: Dictionary, s: RuleSettings, ds: DataSet) -> Checked | None:
    fid = f.id
    if f.kind in (FieldKind.DATE, FieldKind.DATETIME, FieldKind.DATETIME_MIN):
        kind = f.kind
        rule = "format.date" if kind is FieldKind.DATE else "format.datetime"

        n = {FieldKind.DATE: 8, FieldKind.DATETIME: 14, FieldKind.DATETIME_MIN: 12}[kind]

        def check_date(rec: dict[str, Any], emit: Emit) -> None:
            v = rec.get(fid)
            if v and isinstance(v, str):
                # fast path: a calendar day seen valid before and a plain time of day
                if (
                    len(v) == n
                    and v[:8] in _GOOD_DAYS
                    and v.isascii()
                    and v.isdigit()
                    and (n == 8 or (v[8:10] < "24" and v[10:12] < "60" and v[12:] < "60"))
                ):
                    return
                p = date_problem(v, kind)
                if p:
                    emit(fid, rule, v, p, "error")

        # a day seen valid before, and a time of day from the table: no call, no arithmetic
        shape = {
            8: "v in GOOD_DAYS",
            12: "v[:8] in GOOD_DAYS and v[8:10] in HOURS and v[10:] in MINUTES",
            14: "v[:8] in GOOD_DAYS and v[8:10] in HOURS and v[10:] in MINSECS",
        }[n]
        return check_date, Guard(
            [
                f"v = get({fid!r})",
                f"if type(v) is str and v and not ({shape}) and DATE_PROBLEM(v, KIND{{i}}):",
                "    return False",
            ],
            {
                "GOOD_DAYS": _GOOD_DAYS,
                "HOURS": _HOURS,
                "MINUTES": _MINUTES,
                "MINSECS": _MINSECS,
                "DATE_PROBLEM": date_problem,
                "KIND{i}": kind,
            },
        )
    if f.check is None:
        return None
    chk = f.check
    if chk is Check.REGION:
        regions = d.codesets["REGION"]
        known = regions.codes
        retired = {v.code: v.valid_to for v in regions.values if v.valid_to}

        def check_region(rec: dict[str, Any], emit: Emit) -> None:
            v = rec.get(fid)
            if not v or not isinstance(v, str):
                return
            for item in _items(f, v):
                if item not in known:
                    emit(
                        fid,
                        "check.region",
                        item,
                        "expected a GB/T 2260 division code that exists (6 digits, e.g. 350100)",
                        "error",
                    )
                elif item in retired:
                    emit(
                        fid,
                        "check.region_retired",
                        item,
                        f"GB/T 2260 code retired in "
                        f"{retired[item]}; expected the current division code",
                        "warning",
                    )

        return check_region, Guard(
            [
                f"v = get({fid!r})",  # a ';' list is never in OK: it goes to the check
                "if type(v) is str and v and v not in OK{i}:",
                "    return False",
            ],
            {"OK{i}": frozenset(known) - frozenset(retired)},
        )
    if chk in (Check.PLATFORM_ID, Check.GUID):
        return None  # shape only: the schema pattern and the structural check cover it
    type_field = "ID_CARD_TYPE" if chk is Check.CITIZEN_ID and ds.field("ID_CARD_TYPE") else None
    id_types = s.citizen_id_types

    def problems(item: str) -> tuple[str, str] | None:
        if chk is Check.USCC:
            p = ids.uscc_problem(item)
            return ("check.uscc", p) if p else None
        if chk is Check.DEAL_CODE:
            p = ids.deal_code_problem(item)
            return ("check.deal_code", p) if p else None
        if chk is Check.CITIZEN_ID:
            p = ids.citizen_id_problem(item)
            return ("check.citizen_id", p) if p else None
        # party codes: a USCC (18), an organisation code (9), a citizen ID (18, where allowed)
        # or an internal code for army/foreign bodies (any other length: not checkable)
        if len(item) == 18:
            p = ids.uscc_problem(item)
            if p is None:
                return None
            if chk is Check.PARTY_CODE_OR_PERSON and item[:17].isdigit():
                q = ids.citizen_id_problem(item)
                if q is None:
                    return None
                return ("check.uscc", f"{p}; as a citizen ID it {q}")
            return ("check.uscc", p)
        if len(item) == 9 or (len(item) == 10 and item[8] == "-"):
            p = ids.org_code_problem(item)
            return ("check.org_code", p) if p else None
        return None

    cache: dict[str, tuple[str, str] | None] = {}

    def verdict(item: str) -> tuple[str, str] | None:
        """(rule, reason) for a bad item, None for a good one; remembered per value."""
        r = cache.get(item, _MISS)
        if r is _MISS:
            r = problems(item)
            if _Budget.left <= 0 or len(cache) >= CACHE_ENTRIES:
                _Budget.left += len(cache)  # start this cache afresh: the values that
                cache.clear()  # repeat come back at once, the one-off ones are gone
            cache[item] = r
            _Budget.left -= 1
        return r

    multi = f.multi
    label = f.name_cn or fid

    def check_id(rec: dict[str, Any], emit: Emit) -> None:
        v = rec.get(fid)
        if not v or type(v) is not str:
            return
        if type_field is not None and rec.get(type_field) not in id_types:
            return
        for item in v.split(";") if multi else (v,):
            r = verdict(item)
            if r:
                emit(fid, r[0], item, f"{label} {r[1]}", "error")

    when_type = f" and get({type_field!r}) in ID_TYPES{{i}}" if type_field else ""
    # a value the cache knows good is None there: no call; anything else asks ``verdict``
    lines = [f"v = get({fid!r})"]
    if multi:
        lines += [
            f"if type(v) is str and v{when_type}:",
            '    for x in v.split(";"):',
            "        if CACHE{i}.get(x, MISS) is not None and VERDICT{i}(x):",
            "            return False",
        ]
    else:
        lines += [
            f"if type(v) is str and v{when_type} and CACHE{{i}}.get(v, MISS) is not None"
            " and VERDICT{i}(v):",
            "    return False",
        ]
    return check_id, Guard(
        lines, {"CACHE{i}": cache, "VERDICT{i}": verdict, "MISS": _MISS, "ID_TYPES{i}": id_types}
    )


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


def _always_clean(name: str, guards: list[Guard]) -> Callable[[dict[str, Any]], bool]:
    """One function running every guard inline: True when no ``always`` check can emit."""
    body: list[str] = []
    names: dict[str, Any] = {}
    for i, g in enumerate(guards):
        body += ["    " + line.replace("{i}", str(i)) for line in g.lines]
        names |= {k.replace("{i}", str(i)): v for k, v in g.names.items()}
    src = "\n".join(["def clean(rec):", "    get = rec.get", *body, "    return True"])
    code = compile(src, f"<rules for {name}>", "exec")
    ns: dict[str, Any] = {
        "__builtins__": {"isinstance": isinstance, "str": str, "type": type, "len": len},
        **names,
    }
    exec(code, ns)  # the source is built above; field ids enter only as repr() literals
    return cast(Callable[[dict[str, Any]], bool], ns["clean"])


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
        c = _check_fn(f, d, s, ds)
        if c is not None:
            checked.append(c)
        r.structural.append(_structural_fn(f, d))
    checked += _conditional_fn(ds)
    checked += _prefix_fns(ds)
    if "DATA_TIMESTAMP" in r.known_fields:
        checked.append(_future_fn(s))
    r.always = [fn for fn, _ in checked]
    r.clean = _always_clean(ds.name, [g for _, g in checked])
    return r
