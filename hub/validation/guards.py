"""The pieces every rule check is built from: the ``Emit`` callback, a check's *guard* (the
inline lines that decide "surely no issue" without a call, see hub.validation.rules), the
calendar helpers the date checks and guards share, the bounded caches of identifier
verdicts, the node's rule settings, and the compiler that fuses a data set's guards into one
function."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, cast

from hub.dictionary.model import FieldKind
from hub.validation.issues import Severity

DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
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


GOOD_DAYS: set[str] = set()
HOURS = frozenset(f"{h:02d}" for h in range(24))
MINUTES = frozenset(f"{m:02d}" for m in range(60))
MINSECS = frozenset(f"{m:02d}{s:02d}" for m in range(60) for s in range(60))
MISS: tuple[str, str] = ("", "")  # cache sentinel
# per check: enough for the values a batch repeats (its parties, dates, regions); unique
# values (deal codes, timestamps) gain nothing, and a larger cap makes memory grow with the
# batch (measured: 1M records peaked 1.21x the 100k peak with 100k-entry caches)
CACHE_ENTRIES = 8192
# and for all identifier checks together: one cache per checked field of every data set
# (hundreds) each filling to CACHE_ENTRIES made a validating process grow with the input
# (measured: +14 MB from 100k to 300k records) until every cache was full
CACHE_TOTAL = 65_536


class Budget:
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
    if y < 1900 or not 1 <= m <= 12 or not 1 <= d <= DAYS[m]:
        return f"expected a real calendar date in {fmt}"
    if m == 2 and d == 29 and not (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)):
        return f"expected a real calendar date in {fmt}; {y} is not a leap year"
    GOOD_DAYS.add(value[:8])  # bounded: 1900-9999 has at most 3 million days
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


def always_clean(name: str, guards: list[Guard]) -> Callable[[dict[str, Any]], bool]:
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
