"""The rules of the credit, bond, procedure and collusion packs, each at its boundary, on a
real store: a clean generated batch first (no finding), then one record changed the way a
county would send it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hub.generate.generator import Generator
from hub.store.engine import Store
from hub.supervise.findings import check
from hub.supervise.interval import working_days
from tests.conftest import BACKENDS
from tests.test_supervise import _batch, _bids, _day, _first, _ingest, _key, _modify, _open

Rec = dict[str, Any]


def _clean(store: Store, tmp_path: Path, n: int = 3) -> list[Rec]:
    recs = _batch(n)
    _ingest(store, tmp_path, recs, "night")
    assert check(store).opened == 0
    return recs


def _section_of(recs: list[Rec], dataset: str, section: str) -> Rec:
    return next(
        r for r in recs
        if r["dataset"] == dataset and section in r["record"].get("BID_SECTION_CODE", "")
    )  # fmt: skip


@pytest.mark.parametrize(("days", "fires"), [(14, True), (15, False)])
def test_an_amendment_needs_15_days_before_the_deadline(
    store: Store, tmp_path: Path, days: int, fires: bool
) -> None:
    recs = _clean(store, tmp_path)
    t = _first(recs, "TENDER_FILE_CLARI_MODI")
    due = t["record"]["BID_DOC_REFER_END_TIME"]
    _ingest(store, tmp_path, [_modify(t, CLARIFY_TIME=_day(due, -days))], "amended")
    check(store)
    found = _open(store, "TL-CLARIFY")
    assert len(found) == int(fires)
    if fires:
        assert found[0]["evidence"]["days"] == 14 and "第二十一条" in found[0]["evidence"]["law"]


@BACKENDS
@pytest.mark.parametrize(("share", "unit", "fires"), [
    ("0.0200", "0", False), ("0.0201", "0", True), ("0.0201", "1", True),
])  # fmt: skip
def test_a_bid_bond_is_at_most_2_percent_of_the_estimate(
    store: Store, tmp_path: Path, share: str, unit: str, fires: bool
) -> None:
    recs = _clean(store, tmp_path, 1)  # one project with one section
    est = float(_first(recs, "SECTION")["record"]["CONTRACT_RECKON_PRICE"])
    bond = est * float(share) / (10_000 if unit == "1" else 1)  # in 万元 when unit is 1
    t = _first(recs, "TENDER_FILE_CLARI_MODI")
    bad = _modify(t, MARGIN_AMOUNT=f"{bond:.6f}", MARGIN_AMOUNT_UNIT=unit)
    _ingest(store, tmp_path, [bad], "bond")
    check(store)
    found = _open(store, "BOND-BID-2PCT")
    assert len(found) == int(fires), found
    if fires:
        e = found[0]["evidence"]
        assert e["ratio"] == "2.0100%" and e["base"]["dataset"] == "SECTION"
        assert "第二十六条" in e["law"] and "2.01%" in found[0]["message"]


def test_working_days_follow_the_official_calendar() -> None:
    from datetime import date

    # National Day 2024: 1–7 October off, Sunday 29 September and Saturday 12 October worked
    assert working_days(date(2024, 9, 30), date(2024, 10, 8)) == 1
    assert working_days(date(2024, 9, 28), date(2024, 9, 30)) == 2  # Sunday the 29th works
    assert working_days(date(2024, 10, 11), date(2024, 10, 14)) == 2  # Saturday the 12th
    assert working_days(date(2031, 1, 1), date(2031, 1, 9)) is None  # not published: not judged


@pytest.mark.parametrize(("accepted", "fires"), [("20241010", False), ("20241011", True)])
def test_a_complaint_is_accepted_within_3_working_days(
    store: Store, tmp_path: Path, accepted: str, fires: bool
) -> None:
    # lodged on 30 September 2024: the 3rd working day after is 10 October (Mon–Fri would
    # say 3 October, inside the National Day holiday)
    recs = _clean(store, tmp_path, 1)
    c = _first(recs, "COMPLAINT_INFO")
    late = _modify(c, COMPLAINT_DATE="20240930100000", ACCEPT_DATE=f"{accepted}100000",
                   HANDLE_DATE="20241030100000")  # fmt: skip
    late = {**late, "op": "add"}  # the date is part of a complaint's key: another complaint
    late["record"]["DATA_TIMESTAMP"] = "20241101100000"
    _ingest(store, tmp_path, [late], "complaint")
    check(store)
    found = _open(store, "TL-COMPLAINT-ACCEPT")
    assert len(found) == int(fires)
    if fires:
        assert found[0]["evidence"]["days"] == 4 and "working day" in found[0]["message"]


@BACKENDS
@pytest.mark.parametrize(("listed_days", "fires"), [(0, True), (1, False)])
def test_a_blacklisted_winner_as_of_the_award_date(
    store: Store, tmp_path: Path, listed_days: int, fires: bool
) -> None:
    recs = _clean(store, tmp_path)
    g = Generator(seed=77)
    award = _first(recs, "WIN_RESULT_ANNO")["record"]
    entry = g.record("BLACK_LIST", {
        "BODY_CODE": award["WIN_BIDDER_CODE"], "BODY_NAME": award["WIN_BIDDER_NAME"],
        "BLACKLIST_CODE": g.v.guid(), "BODY_ROLE": "03", "REVOCATION_STATUS": "0"})  # fmt: skip
    # listed on the award's day: found; from the day after: the award was lawful then
    entry["record"]["RECORD_DATE"] = _day(award["NOTICE_SEND_TIME"], listed_days)
    entry["record"]["DATA_TIMESTAMP"] = _day(award["NOTICE_SEND_TIME"], 40)
    _ingest(store, tmp_path, [entry], "blacklist")  # the list arrives after the award
    check(store)
    found = _open(store, "CR-BLACKLISTED-WINNER")
    assert bool(found) == fires  # every award the company won that day or later
    if not fires:
        return
    assert {f["evidence"]["party"]["value"] for f in found} == {award["WIN_BIDDER_CODE"]}
    assert {f["other_dataset"] for f in found} == {"BLACK_LIST"}
    # the blacklist is withdrawn before the award: the finding clears
    lift = g.record("WITHDRAW_BLACK_LIST", {
        "BLACKLIST_CODE": entry["record"]["BLACKLIST_CODE"], "BODY_CODE": award["WIN_BIDDER_CODE"],
        "BODY_NAME": award["WIN_BIDDER_NAME"], "BODY_ROLE": "03"})  # fmt: skip
    lift["record"]["APPLICATION_DATE"] = _day(award["NOTICE_SEND_TIME"], 0)
    lift["record"]["DATA_TIMESTAMP"] = _day(award["NOTICE_SEND_TIME"], 41)
    _ingest(store, tmp_path, [lift], "lifted")
    assert check(store).cleared >= 1 and _open(store, "CR-BLACKLISTED-WINNER") == []


def test_the_agency_that_bids_and_its_correction(store: Store, tmp_path: Path) -> None:
    recs = _clean(store, tmp_path, 1)
    project = _first(recs, "TENDER_PROJECT")
    bid = _first(recs, "TENDER_LIST")
    code = bid["record"]["BIDDER_ORG_CODE"]
    _ingest(store, tmp_path, [_modify(project, TENDER_AGENCY_CODE=code)], "agent")
    check(store)
    [f] = _open(store, "CR-AGENT-BIDS")
    assert f["business_key"] == _key(bid) and code in f["message"]
    back = project["record"]["TENDER_AGENCY_CODE"]
    _ingest(store, tmp_path, [_modify(project, 90, TENDER_AGENCY_CODE=back)], "fixed")
    assert check(store).cleared == 1 and _open(store, "CR-AGENT-BIDS") == []


def test_an_expert_employed_by_a_bidder(store: Store, tmp_path: Path) -> None:
    recs = _clean(store, tmp_path, 1)
    expert = _first(recs, "BID_EVALUATION_EXPERT")["record"]
    section = expert["BID_SECTION_CODE"]
    bid = _bids(recs, section)[-1]
    g = Generator(seed=78)
    profile = g.record("EXPERT_EVALUATION", {
        "ID_CARD": expert["ID_CARD"], "_person_id": expert["ID_CARD"],
        "EXPERT_NAME": expert["EXPERT_NAME"], "COMPANY": "其他设计院"})  # fmt: skip
    if any(r["dataset"] == "EXPERT_EVALUATION" and _key(r) == expert["ID_CARD"] for r in recs):
        profile["op"] = "modify"  # the batch had the expert's profile already
    profile["record"]["DATA_TIMESTAMP"] = _day(expert["DATA_TIMESTAMP"], 30)
    _ingest(store, tmp_path, [profile], "profile")
    assert check(store).opened == 0  # employed elsewhere
    moved = _modify(profile, 5, COMPANY=f" {bid['record']['BIDDER_NAME']} ")  # spaces ignored
    _ingest(store, tmp_path, [moved], "moved")
    check(store)
    [f] = _open(store, "CR-EXPERT-EMPLOYER")
    assert f["business_key"] == _key(bid) and f["other_dataset"] == "BID_EVALUATION_EXPERT"
    assert bid["record"]["BIDDER_NAME"] in f["message"]
    # sent again unchanged (a later DATA_TIMESTAMP only): nothing it decides is re-judged
    same = _modify(moved, 5)
    _ingest(store, tmp_path, [same], "same")
    assert check(store).looked == 0 and len(_open(store, "CR-EXPERT-EMPLOYER")) == 1
    back = _modify(same, 5, COMPANY="其他设计院")  # moved back: the finding is cleared
    _ingest(store, tmp_path, [back], "back")
    got = check(store)
    assert got.looked > 0 and got.cleared == 1 and not _open(store, "CR-EXPERT-EMPLOYER")


def test_one_computer_for_two_bids(store: Store, tmp_path: Path) -> None:
    recs = _clean(store, tmp_path, 1)
    section = _first(recs, "TENDER_LIST")["record"]["BID_SECTION_CODE"]
    docs = [r for r in recs if r["dataset"] == "BID_DOC_CHARACT_CODE"
            and r["record"]["BID_SECTION_CODE"] == section]  # fmt: skip
    a, b = docs[:2]
    mac = a["record"]["MAC_ADDRESS"]
    _ingest(store, tmp_path, [_modify(b, MAC_ADDRESS=mac.lower())], "same")
    check(store)
    assert _open(store, "BID-SAME-MACHINE") == []  # 'aa-bb' is not 'AA-BB' as a value
    _ingest(store, tmp_path, [_modify(b, 90, MAC_ADDRESS=mac)], "same2")
    check(store)
    [f] = _open(store, "BID-SAME-MACHINE")
    assert mac in f["message"] and "第四十条" in f["evidence"]["law"]


# -- every interval and ratio rule of the packs at its boundary ------------------------------
def _rules(kind: str) -> list[Any]:
    from hub.supervise.pack import load_packs

    return [r for p in load_packs() for r in p.rule if r.kind == kind]


def _nth_day(start: str, n: int, working: bool, like: str) -> str:
    """The day ``n`` (working) days after ``start``, laid out like ``like``, at noon."""
    from datetime import date, timedelta

    import chinese_calendar

    day = date(int(start[:4]), int(start[4:6]), int(start[6:8]))
    if not working:
        day += timedelta(days=n)
    while working and n:
        day += timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return (f"{day:%Y%m%d}" + "120000")[: len(like)]


def _partners(recs: list[Rec], end: Rec, start_side: Any, end_side: Any) -> list[Rec]:
    if start_side.dataset == end_side.dataset:
        return [end]
    codes = set(str(end["record"].get(end_side.link, "")).split(";")) - {""}
    return [
        r for r in recs
        if r["dataset"] == start_side.dataset
        and codes & set(str(r["record"].get(start_side.link, "")).split(";"))
    ]  # fmt: skip


@pytest.mark.parametrize("rule", _rules("interval"), ids=lambda r: r.id)
@pytest.mark.parametrize("breaks", [False, True], ids=["at", "beyond"])
def test_every_interval_rule_at_its_boundary(
    store: Store, tmp_path: Path, rule: Any, breaks: bool
) -> None:
    recs = _clean(store, tmp_path, 8)
    s, e = rule.start, rule.end
    end = next(
        r for r in recs
        if r["dataset"] == e.dataset and r["record"].get(e.field)
        and all(p["record"].get(s.field) for p in _partners(recs, r, s, e))
        and _partners(recs, r, s, e)
    )  # fmt: skip
    starts = sorted(p["record"][s.field][:8] for p in _partners(recs, end, s, e))
    lo, hi = rule.limits(None)
    if lo is not None:  # at the minimum passes, a day short breaks it
        value = _nth_day(starts[-1], lo - breaks, rule.working_days, end["record"][e.field])
    else:  # at the maximum passes, a day more breaks it
        value = _nth_day(starts[0], hi + breaks, rule.working_days, end["record"][e.field])
    _ingest(store, tmp_path, [_modify(end, **{e.field: value})], "edge")
    check(store)
    found = {f["business_key"] for f in _open(store, rule.id)}
    assert found == ({_key(end)} if breaks else set()), (rule.id, value, starts)


@pytest.mark.parametrize("rule", _rules("ratio"), ids=lambda r: r.id)
@pytest.mark.parametrize("breaks", [False, True], ids=["at", "beyond"])
def test_every_ratio_rule_at_its_boundary(
    store: Store, tmp_path: Path, rule: Any, breaks: bool
) -> None:
    recs = _clean(store, tmp_path, 4)
    v, b = rule.value, rule.base
    value = next(r for r in recs if r["dataset"] == v.dataset and r["record"].get(v.field))
    bases = [float(p["record"][b.field]) for p in _partners(recs, value, b, v)]
    amount = min(bases) * (rule.max_ratio + (0.0001 if breaks else 0))
    fields = {v.field: f"{amount:.2f}", **({v.unit: "0"} if v.unit else {})}
    _ingest(store, tmp_path, [_modify(value, **fields)], "edge")
    check(store)
    found = {f["business_key"] for f in _open(store, rule.id)}
    assert found == ({_key(value)} if breaks else set()), (rule.id, amount, bases)


@pytest.mark.parametrize("rule", _rules("same_value"), ids=lambda r: r.id)
def test_every_same_value_rule_fires_on_two_equal_values(
    store: Store, tmp_path: Path, rule: Any
) -> None:
    recs = _clean(store, tmp_path, 2)
    g = rule.among
    section = _first(recs, "TENDER_LIST")["record"]["BID_SECTION_CODE"]
    a, b = sorted((r for r in recs if r["dataset"] == g.dataset
                   and r["record"].get(g.link) == section), key=_key)[:2]  # fmt: skip
    _ingest(store, tmp_path, [_modify(b, **{g.field: a["record"][g.field]})], "same")
    check(store)
    assert {f["business_key"] for f in _open(store, rule.id)} == {_key(b)}


def _looked_up(rule: Any) -> bool:
    return bool(rule.left.via and rule.left.via.dataset == "LEGAL_PERSON_BASE")


@pytest.mark.parametrize("rule", [r for r in _rules("shared") if _looked_up(r)], ids=lambda r: r.id)
@pytest.mark.parametrize("fires", [False, True], ids=["one-character-apart", "equal"])
def test_every_company_lookup_rule_fires_on_one_value(
    store: Store, tmp_path: Path, rule: Any, fires: bool
) -> None:
    """Two bidders of one section whose 法人基本信息 give values one character apart, then the
    same value: only the second is a finding, named on the later bid of the pair."""
    g = Generator(seed=5)
    recs = g.batch(2)
    _ingest(store, tmp_path, recs, "night")
    assert check(store).opened == 0
    section = _first(recs, "TENDER_LIST")["record"]["BID_SECTION_CODE"]
    a, b = sorted((r for r in recs if r["dataset"] == "TENDER_LIST"
                   and r["record"]["BID_SECTION_CODE"] == section), key=_key)[:2]  # fmt: skip
    field, value = rule.left.via.field, "13905910077"
    companies = []
    for bid, v in ((a, value), (b, value if fires else value[:-1] + "8")):
        code, name = bid["record"]["BIDDER_ORG_CODE"], bid["record"]["BIDDER_NAME"]
        companies.append(g.record("LEGAL_PERSON_BASE", {
            "LEGAL_CODE": code, "LEGAL_NAME": name, "_org_code": code, "LEGAL_ROLE": "03",
            field: v}))  # fmt: skip
    _ingest(store, tmp_path, companies, "companies")
    check(store)
    found = _open(store, rule.id)
    assert [f["business_key"] for f in found] == ([_key(b)] if fires else []), found
    if fires:
        assert value in found[0]["message"] and "第四十条" in found[0]["evidence"]["law"]


@pytest.mark.parametrize(("ends_days", "fires"), [(0, False), (1, True)])
def test_a_restriction_ends_on_its_last_day(
    store: Store, tmp_path: Path, ends_days: int, fires: bool
) -> None:
    # CONFINED_END is the first day without the restriction: ending on the award's day
    # means the award was free of it
    recs = _clean(store, tmp_path)
    award = _first(recs, "WIN_RESULT_ANNO")["record"]
    g = Generator(seed=79)
    vio = g.record("VIOLATING_LAWS_RULES_INFO", {
        "BODY_CODE": award["WIN_BIDDER_CODE"], "BODY_NAME": award["WIN_BIDDER_NAME"],
        "VIOLATING_CODE": g.v.guid(), "BODY_ROLE": "03",
        **{f: award[f] for f in ("TENDER_PROJECT_CODE", "BID_SECTION_CODE", "UNIFIED_DEAL_CODE")},
    })  # fmt: skip
    vio["record"]["CONFINED_START"] = _day(award["NOTICE_SEND_TIME"], -100)
    vio["record"]["CONFINED_END"] = _day(award["NOTICE_SEND_TIME"], ends_days)
    _ingest(store, tmp_path, [vio], "restriction")
    check(store)
    found = _open(store, "CR-RESTRICTED-WINNER")
    assert bool(found) == fires
    if fires:
        assert {f["evidence"]["listed"]["dataset"] for f in found} == {"VIOLATING_LAWS_RULES_INFO"}


@pytest.mark.parametrize(("listed_days", "fires"), [(0, True), (1, False)])
def test_a_blacklisted_bidder_as_of_the_bid(
    store: Store, tmp_path: Path, listed_days: int, fires: bool
) -> None:
    recs = _clean(store, tmp_path, 1)
    bid = _first(recs, "TENDER_LIST")["record"]
    g = Generator(seed=80)
    entry = g.record("BLACK_LIST", {
        "BODY_CODE": bid["BIDDER_ORG_CODE"], "BODY_NAME": bid["BIDDER_NAME"],
        "BLACKLIST_CODE": g.v.guid(), "BODY_ROLE": "03", "REVOCATION_STATUS": "0"})  # fmt: skip
    entry["record"]["RECORD_DATE"] = _day(bid["DATA_TIMESTAMP"], listed_days)
    _ingest(store, tmp_path, [entry], "blacklist")
    check(store)
    found = {f["business_key"] for f in _open(store, "CR-BLACKLISTED-BIDDER")}
    mine = _key(_first(recs, "TENDER_LIST"))
    assert (mine in found) == fires
