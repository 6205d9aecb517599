"""Appendix A format strings (``C..200``, ``C17``, ``N..20,6``, ``yyyyMMdd``) as field types."""

from __future__ import annotations

import re
from typing import Any

from hub.dictionary.model import FieldKind
from hub.errors import ConfigError

_TEXT = re.compile(r"^C(\.\.)?(\d+|ul)$")
_NUM = re.compile(r"^N(\.\.)?(\d+)(?:,(\d+))?$")
_DATES = {
    "yyyymmdd": FieldKind.DATE,
    "yyyymmddhhmmss": FieldKind.DATETIME,
    "yyyymmddhhmm": FieldKind.DATETIME_MIN,
}


def parse_format(fmt: str) -> dict[str, Any]:
    """Return the FieldDef attributes a format string implies.

    Workbook slips are tolerated where the intent is plain: a full-width dot (``N．.20,6``)
    and upper-case date letters (``YYYYMMDDhhmmss``).
    """
    text = fmt.strip().replace("．", ".").replace(" ", "")
    if not text:
        return {"kind": FieldKind.TEXT}
    if text.lower() in _DATES:
        return {"kind": _DATES[text.lower()]}
    m = _TEXT.match(text)
    if m:
        if m.group(2) == "ul":
            return {"kind": FieldKind.TEXT}
        n = int(m.group(2))
        return (
            {"kind": FieldKind.TEXT, "max_length": n}
            if m.group(1)
            else {
                "kind": FieldKind.TEXT,
                "fixed_length": n,
                "max_length": n,
            }
        )
    m = _NUM.match(text)
    if m:
        total = int(m.group(2))
        if m.group(3) is not None:
            frac = int(m.group(3))
            return {"kind": FieldKind.DECIMAL, "int_digits": total - frac, "frac_digits": frac}
        return {"kind": FieldKind.INTEGER, "int_digits": total}
    raise ConfigError(f"unknown field format {fmt!r}; expected C..n, Cn, C..ul, N..p[,s] or a date")
