"""The ``always`` check of one field: calendar dates, GB/T 2260 regions, and the identifier
checks (GB 32100, GB 11714, GB 11643, the unified deal code), each with its guard and a
bounded cache of verdicts per value (hub.validation.guards)."""

from __future__ import annotations

from typing import Any

from hub.dictionary.loader import Dictionary
from hub.dictionary.model import Check, DataSet, FieldDef, FieldKind
from hub.validation import guards as g
from hub.validation import identifiers as ids
from hub.validation.guards import Checked, Emit, Guard, RuleSettings, date_problem
from hub.validation.issues import Severity

# the identifier verdicts that are warnings: the value is taken, the sender is told
WARNINGS: dict[str, Severity] = {"check.deal_code_36": "warning"}


def _items(f: FieldDef, value: str) -> list[str]:
    return value.split(";") if f.multi else [value]


def field_check(f: FieldDef, d: Dictionary, s: RuleSettings, ds: DataSet) -> Checked | None:
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
                    and v[:8] in g.GOOD_DAYS
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
                "GOOD_DAYS": g.GOOD_DAYS,
                "HOURS": g.HOURS,
                "MINUTES": g.MINUTES,
                "MINSECS": g.MINSECS,
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
            if p and len(item) == 36 and ids.deal_code_36_problem(item) is None:
                return ("check.deal_code_36", ids.DEAL_CODE_36_NOTE)  # tolerated: a warning
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
        r = cache.get(item, g.MISS)
        if r is g.MISS:
            r = problems(item)
            if g.Budget.left <= 0 or len(cache) >= g.CACHE_ENTRIES:
                g.Budget.left += len(cache)  # start this cache afresh: the values that
                cache.clear()  # repeat come back at once, the one-off ones are gone
            cache[item] = r
            g.Budget.left -= 1
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
                emit(fid, r[0], item, f"{label} {r[1]}", WARNINGS.get(r[0], "error"))

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
        lines, {"CACHE{i}": cache, "VERDICT{i}": verdict, "MISS": g.MISS, "ID_TYPES{i}": id_types}
    )
