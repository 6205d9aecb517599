"""Check characters of Chinese identifiers.

GB 32100-2015 unified social credit code (统一社会信用代码), GB 11714 organisation code
(组织机构代码), GB 11643-1999 citizen ID number (公民身份号码) and the 40-character
UNIFIED_DEAL_CODE with its ISO/IEC 7064 MOD 37-2 check character (reference §3.1, §6).
Each ``*_problem`` function returns None when the value is valid, else a short reason.
"""

from __future__ import annotations

import datetime
import functools
import operator
import re

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_USCC_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_SHAPE = re.compile(r"[0-9A-Z]{8}[0-9X]")

_CID_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_CID_CHECK = "10X98765432"
_CID_SHAPE = re.compile(r"[0-9]{17}[0-9X]")

MOD37_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*"
_MOD37_VALUE = {c: i for i, c in enumerate(MOD37_ALPHABET)}
DEAL_CODE_SHAPE = re.compile(
    r"([0-9A-Z]{3})-([0-9A-HJ-NPQRTUWXY]{18})-([0-9]{8})-([0-9]{6})-([0-9A-Z*])"
)


def uscc_check_char(first17: str) -> str:
    s = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - s % 31) % 31]


def uscc_problem(value: str) -> str | None:
    if len(value) != 18:
        return f"has {len(value)} characters, expected 18"
    if not _USCC_SHAPE.fullmatch(value):
        return (
            "has characters outside GB 32100's alphabet (digits and capitals without "
            "I, O, S, V, Z; positions 3–8 digits)"
        )
    want = uscc_check_char(value[:17])
    if value[17] != want:
        return f"check character is {value[17]!r}, GB 32100 gives {want!r}"
    return None


def org_code_check_char(first8: str) -> str:
    s = sum(
        (int(c) if c.isdigit() else ord(c) - 55) * w
        for c, w in zip(first8, _ORG_WEIGHTS, strict=True)
    )
    v = 11 - s % 11
    return "X" if v == 10 else "0" if v == 11 else str(v)


def org_code_problem(value: str) -> str | None:
    code = value.replace("-", "") if len(value) == 10 and value[8] == "-" else value
    if not _ORG_SHAPE.fullmatch(code):
        return "is not 8 digits/capitals and a check character (GB 11714)"
    want = org_code_check_char(code[:8])
    if code[8] != want:
        return f"check character is {code[8]!r}, GB 11714 gives {want!r}"
    return None


def citizen_id_check_char(first17: str) -> str:
    return _CID_CHECK[sum(int(c) * w for c, w in zip(first17, _CID_WEIGHTS, strict=True)) % 11]


def citizen_id_problem(value: str) -> str | None:
    if len(value) != 18:
        return f"has {len(value)} characters, expected 18"
    if not _CID_SHAPE.fullmatch(value):
        return "is not 17 digits and a check character 0-9 or X (GB 11643)"
    want = citizen_id_check_char(value[:17])
    if value[17] != want:
        return f"check character is {value[17]!r}, GB 11643 gives {want!r}"
    if value[:2] not in PROVINCES:
        return (
            f"address code {value[:6]!r} (digits 1-6) names no province: its first two digits "
            "are not a GB/T 2260 province (11-65) or 81/82/83 (residence permits of Hong Kong, "
            "Macao and Taiwan residents)"
        )
    return _birth_date_problem(value[6:14])


# GB/T 2260 provinces, and the 81/82/83 of the residence permits for Hong Kong, Macao and
# Taiwan residents (2018).  Only the province is checked: a number keeps the county code it
# was issued with, and counties merged or renamed since then are not all in any table.
PROVINCES = frozenset(
    {f"{p}" for p in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43)}
    | {f"{p}" for p in (44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83)}
)


def _birth_date_problem(ymd: str) -> str | None:
    """Digits 7-14 are the birth date: a real calendar date, 1900 or later, not in the
    future (a valid check character does not make 31 February a birthday)."""
    try:
        born = datetime.date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:]))
    except ValueError:
        return f"birth date {ymd!r} (digits 7-14) is not a real date (GB 11643)"
    if not datetime.date(1900, 1, 1) <= born <= datetime.date.today():
        return f"birth date {ymd!r} (digits 7-14) is before 1900 or in the future (GB 11643)"
    return None


@functools.cache
def _mod37_weights(n: int) -> tuple[int, ...]:
    return tuple(pow(2, n - i, 37) for i in range(n))


def mod37_2_check_char(data: str) -> str:
    # p = ((p + v) * 2) % 37 over the characters is the sum of v_i * 2^(n-i) mod 37: one
    # weighted sum in C loops instead of a Python step per character
    p = sum(map(operator.mul, map(_MOD37_VALUE.__getitem__, data), _mod37_weights(len(data))))
    return MOD37_ALPHABET[(38 - p % 37) % 37]


def deal_code_problem(value: str) -> str | None:
    m = DEAL_CODE_SHAPE.fullmatch(value)
    if not m:
        return (
            "is not {3-char trade class}-{18-char USCC}-{yyyyMMdd}-{6 digits}-{check}, "
            "40 characters"
        )
    want = mod37_2_check_char("".join(m.groups()[:4]))
    if m.group(5) != want:
        return f"check character is {m.group(5)!r}, ISO 7064 MOD 37-2 gives {want!r}"
    return None


# Fujian's supervision system writes the code without its trade class: USCC-yyyyMMdd-serial-
# check, 36 characters (ProjectService.Generate_UNIFIED_DEAL_CODE in lishanling/GGZY, whose
# check character is taken over the trade class too, so it cannot be recomputed from the code)
DEAL_CODE_36 = re.compile(r"([0-9A-HJ-NPQRTUWXY]{18})-([0-9]{8})-([0-9]{6})-([0-9A-Z*])")
DEAL_CODE_36_NOTE = (
    "is the older 36-character form without its 3-character trade class (as Fujian's "
    "supervision system writes it); taken as sent, its check character unverified (it covers "
    "the missing trade class); expected TTT-{USCC}-yyyyMMdd-nnnnnn-C, 40 characters"
)


def deal_code_36_problem(value: str) -> str | None:
    """None when ``value`` is a well-formed 36-character deal code: a valid USCC, a real date."""
    m = DEAL_CODE_36.fullmatch(value)
    if not m:
        return "is not {18-char USCC}-{yyyyMMdd}-{6 digits}-{check}"
    p = uscc_problem(m.group(1))
    if p:
        return f"its USCC {p}"
    try:
        datetime.datetime.strptime(m.group(2), "%Y%m%d")
    except ValueError:
        return f"its date {m.group(2)!r} is not a real date"
    return None


def make_uscc(first17: str) -> str:
    return first17 + uscc_check_char(first17)


def make_citizen_id(first17: str) -> str:
    return first17 + citizen_id_check_char(first17)


def make_deal_code(trade_class: str, uscc: str, date: str, serial: int) -> str:
    body = f"{trade_class}{uscc}{date}{serial:06d}"
    return f"{trade_class}-{uscc}-{date}-{serial:06d}-{mod37_2_check_char(body)}"
