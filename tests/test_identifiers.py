"""Check characters: the reference's worked examples, every single-character change, and
python-stdnum as an independent oracle."""

from __future__ import annotations

import string

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric, uscc
from stdnum.iso7064 import mod_37_2

from hub.validation import identifiers as ids

USCC_EX = "91350100M000100Y43"
CID_EX = "11010519491231002X"
DEAL_EX = "A01-91350000MA347WHE48-20190327-000123-I"
ALPHABET = string.digits + string.ascii_uppercase + "*-"


def test_worked_examples_pass() -> None:
    assert ids.uscc_problem(USCC_EX) is None
    assert ids.citizen_id_problem(CID_EX) is None
    assert ids.deal_code_problem(DEAL_EX) is None
    assert ids.org_code_problem("M000100Y4") is None
    assert ids.make_deal_code("B01", "12320200466372674G", "20180901", 1).endswith("-*")


@pytest.mark.parametrize(
    "value",
    [
        "12320200466372674G",
        "12320000466011756J",
        "91140100MA0GTCLY49",
        "121500004600236091",
        "911100001000003904",
        "123500004880012255",
    ],
)
def test_real_platform_codes_pass(value: str) -> None:
    assert ids.uscc_problem(value) is None


def test_placeholder_platform_code_fails() -> None:
    assert "check character" in (ids.uscc_problem("999999999999999000") or "")


def _single_changes(value: str) -> list[str]:
    return [
        value[:i] + c + value[i + 1 :] for i in range(len(value)) for c in ALPHABET if c != value[i]
    ]


@pytest.mark.parametrize(
    ("value", "fn"),
    [
        (USCC_EX, ids.uscc_problem),
        (CID_EX, ids.citizen_id_problem),
        (DEAL_EX, ids.deal_code_problem),
    ],
)
def test_every_single_character_change_is_rejected(value: str, fn: object) -> None:
    changes = _single_changes(value)
    assert len(changes) > 30 * len(value) - len(value)
    accepted = [c for c in changes if fn(c) is None]  # type: ignore[operator]
    assert accepted == []


@given(
    st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=2, max_size=2),
    st.text("0123456789", min_size=6, max_size=6),
    st.text("0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=9, max_size=9),
)
def test_uscc_check_char_agrees_with_stdnum(a: str, b: str, c: str) -> None:
    first17 = a + b + c
    assert ids.uscc_check_char(first17) == uscc.calc_check_digit(first17)


@given(st.text("0123456789", min_size=17, max_size=17))
def test_citizen_id_check_char_agrees_with_stdnum(first17: str) -> None:
    # stdnum takes the whole 18-character number and ignores its last character
    assert ids.citizen_id_check_char(first17) == ric.calc_check_digit(first17 + "0")


@given(st.text(string.digits + string.ascii_uppercase, min_size=1, max_size=40))
def test_mod37_2_agrees_with_stdnum(data: str) -> None:
    assert ids.mod37_2_check_char(data) == mod_37_2.calc_check_digit(data)


@pytest.mark.parametrize(
    ("birth", "ok"),
    [
        ("19800229", True),  # 1980 was a leap year
        ("19810229", False),
        ("19850231", False),
        ("19851301", False),
        ("19850000", False),
        ("18991231", False),
        ("29990101", False),
        ("19800228", True),
        ("20000229", True),
    ],
)
def test_citizen_id_birth_date_must_be_a_real_date(birth: str, ok: bool) -> None:
    first17 = "110105" + birth + "123"
    value = first17 + ids.citizen_id_check_char(first17)
    problem = ids.citizen_id_problem(value)
    assert (problem is None) is ok, problem
    if not ok:
        assert birth in str(problem) and "digits 7-14" in str(problem)


@pytest.mark.parametrize(
    ("address", "ok"),
    [
        ("110105", True),  # 北京市朝阳区
        ("350121", True),  # 福建省闽侯县
        ("650102", True),  # 新疆 乌鲁木齐市天山区
        ("810000", True),  # 香港居民居住证 (2018)
        ("830000", True),  # 台湾居民居住证
        ("000000", False),
        ("160101", False),  # no province 16
        ("390101", False),
        ("990101", False),
    ],
)
def test_citizen_id_address_code_names_a_province(address: str, ok: bool) -> None:
    """GB 11643: digits 1-6 are the GB/T 2260 code of the holder's county; its first two
    name a province (or 81/82/83 for the residence permits of Hong Kong, Macao and Taiwan
    residents).  Old counties' codes are retired but stay in old numbers, so the county
    itself is not looked up."""
    first17 = address + "19800101" + "123"
    problem = ids.citizen_id_problem(first17 + ids.citizen_id_check_char(first17))
    assert (problem is None) is ok, problem
    if not ok:
        assert address in str(problem) and "digits 1-6" in str(problem)


def test_a_36_character_deal_code_is_taken_with_a_warning() -> None:
    """Fujian's supervision system writes UNIFIED_DEAL_CODE without the trade class (36
    characters); the reference says tolerate and log: accepted with check.deal_code_36."""
    from hub.ingest.pipeline import default_validator

    uscc = ids.make_uscc("91350100MA2XN1234")
    full = ids.make_deal_code("A01", uscc, "20240301", 17)
    legacy = full[4:]  # the same code without "A01-": USCC-date-serial-check
    assert len(full) == 40 and len(legacy) == 36

    def issues(code: str) -> list[tuple[str, str]]:
        rec = {
            "dataset": "SECTION",
            "record": {"BID_SECTION_CODE": "E3501002403010001001", "UNIFIED_DEAL_CODE": code},
        }
        [r] = default_validator().iter_bytes(orjson.dumps(rec), "s.jsonl", "jsonl")
        return [(i.rule, i.severity) for i in r.issues if i.field == "UNIFIED_DEAL_CODE"]

    assert issues(full) == []
    assert issues(legacy) == [("check.deal_code_36", "warning")]
    assert issues(legacy.replace("20240301", "20241301"))[0] == ("check.deal_code", "error")
    assert issues(legacy[:-2])[0][1] == "error"  # 34 characters: neither form


def test_comma_joined_roles_and_the_ceb_amount_unit_coding_are_refused_with_a_hint() -> None:
    """Decisions from the sources (docs/dictionary.md): codes in one field are separated by
    ';' (Fujian's DomainMatch splits on ';' only), and 金额单位 is 0 元 / 1 万元 (Fujian's
    PRICE_UNIT); CEB's [1|2] coding is not read (a '1' would mean 元 there)."""
    from hub.generate.generator import Generator
    from hub.ingest.pipeline import default_validator

    base = next(r for r in Generator(seed=2).batch(5) if r["dataset"] == "LEGAL_PERSON_BASE")

    def issues(**fields: str) -> list[tuple[str, str, str]]:
        rec = {**base, "record": {**base["record"], **fields}}
        [r] = default_validator().iter_bytes(orjson.dumps(rec), "x.jsonl", "jsonl")
        return [(i.rule, i.field, i.message) for i in r.issues]

    assert issues(LEGAL_ROLE="02;03") == [] and issues(REG_UNIT="1") == []
    [(rule, field, message)] = issues(LEGAL_ROLE="02,03")
    assert (rule, field) == ("codeset.member", "LEGAL_ROLE") and "';'" in message
    [(rule, field, message)] = issues(REG_UNIT="2")
    assert (rule, field) == ("codeset.member", "REG_UNIT") and "0, 1" in message


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("330113", []),  # 临平区 (2021): python-stdnum's table lacks it; rejected before
        ("330114", []),  # 钱塘区 (2021): the same
        ("330104", [("check.region_retired", "warning")]),  # 江干区, retired by the same act
        ("330115", [("check.region", "error")]),  # no such division
    ],
)
def test_hangzhous_2021_districts_are_current_division_codes(
    code: str, expected: list[tuple[str, str]]
) -> None:
    from hub.ingest.pipeline import default_validator

    rec = {
        "dataset": "PROJECT",
        "record": {"PROJECT_CODE": "E3301132403010001", "REGION_CODE": code},
    }
    [r] = default_validator().iter_bytes(orjson.dumps(rec), "p.jsonl", "jsonl")
    got = [(i.rule, i.severity) for i in r.issues if i.field == "REGION_CODE"]
    assert got == expected


def test_every_division_change_since_2020_is_in_the_code_set() -> None:
    """民政部's lists (schemas/reference/gbt2260/areacodes.csv) against the REGION code set:
    each division created since 2021 is current, each one retired since then is retired in
    that year."""
    import csv

    from hub.dictionary.loader import load_dictionary
    from hub.dictionary.paths import schemas_dir

    region = {v.code: v for v in load_dictionary(overlays=()).codesets["REGION"].values}
    path = schemas_dir() / "reference" / "gbt2260" / "areacodes.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    in_use = {r["代码"] for r in rows if r["状态"] == "在用"}
    created = {r["代码"] for r in rows if r["状态"] == "在用" and int(r["启用时间"]) >= 2021}
    retired = {
        r["代码"]: int(r["变更/弃用时间"])
        for r in rows
        if r["状态"] == "弃用" and int(r["变更/弃用时间"]) >= 2021 and r["代码"] not in in_use
    }
    assert {"330113", "330114"} <= created and {"330103", "330104"} <= set(retired)
    assert [c for c in sorted(created) if region[c].valid_to is not None] == []
    assert {c: region[c].valid_to for c in retired} == retired
    assert all(region[c].valid_to is None for c in in_use)


def test_a_renamed_division_is_current_under_its_new_name() -> None:
    """python-stdnum writes a renamed code's names on one line, ``[-1991]东郊区,[1992-]东丽区``;
    the first name's end year used to retire the code (165 current codes, among them
    大连市, gave check.region_retired)."""
    from hub.dictionary.importer import stdnum_regions

    east = stdnum_regions()["120110"]
    assert (east.label, east.valid_to) == ("东丽区", None)
