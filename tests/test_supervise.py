"""Supervision rule packs on a real store: statutory timelines at their boundaries, across
two records, in force by date, overridden by province, corrected and cleared, reviewed; a
clean generated batch yields no finding and every planted violation is found."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.errors import ConfigError
from hub.generate.generator import Generator
from hub.generate.plant import plant
from hub.ingest.pipeline import ingest_file
from hub.query.fates import Window
from hub.store.engine import Store
from hub.store.models import AuditEntry, Finding
from hub.supervise.findings import check, listing
from hub.supervise.pack import load_pack, load_packs
from tests.conftest import BACKENDS

Rec = dict[str, Any]


def _batch(n: int, seed: int = 5) -> list[Rec]:
    return Generator(seed=seed).batch(n)


def _ingest(store: Store, tmp_path: Path, recs: list[Rec], name: str) -> None:
    p = tmp_path / f"{name}.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n", "utf-8")
    res = ingest_file(store, p, "county-a")
    assert res.counts.rejected == res.counts.quarantined == 0, res.counts


def _first(recs: list[Rec], dataset: str) -> Rec:
    return next(r for r in recs if r["dataset"] == dataset)


def _day(ts: str, days: int, hhmmss: str = "120000") -> str:
    d = date(int(ts[:4]), int(ts[4:6]), int(ts[6:8])) + timedelta(days=days)
    return f"{d:%Y%m%d}{hhmmss}"


def _modify(r: Rec, stamp_days: int = 60, **fields: str) -> Rec:
    rec = dict(r["record"])
    rec.update(fields)
    rec["DATA_TIMESTAMP"] = _day(rec["DATA_TIMESTAMP"], stamp_days)
    return {**r, "op": "modify", "record": rec}


def _open(store: Store, rule: str | None = None) -> list[dict[str, Any]]:
    with store.read() as conn:
        return listing(conn, Window(limit=1000), rule).rows


def test_the_bundled_pack_loads_and_a_bad_pack_names_its_mistake(tmp_path: Path) -> None:
    packs = {p.pack.name: p for p in load_packs()}
    assert set(packs) == {"statutory", "bidding", "credit"} and len(packs["statutory"].rule) >= 7
    assert all(r.law.startswith("《") and r.article for p in packs.values() for r in p.rule)
    bad = tmp_path / "bad.toml"
    text = Path("schemas/supervision/statutory.toml").read_text("utf-8")
    bad.write_text(text.replace('field = "DOC_GET_END_TIME"', 'field = "DOC_GET_ENDTIME"', 1))
    with pytest.raises(
        ConfigError, match=r"bad.toml: rule TL-DOC-SALE: .* no field 'DOC_GET_ENDTIME'"
    ):
        load_pack(bad)
    bad.write_text(text.replace("$days day(s), $start", "$dayz day(s), $start", 1))
    with pytest.raises(ConfigError, match="unknown placeholders"):
        load_pack(bad)


@BACKENDS
def test_a_clean_batch_breaks_no_timeline(store: Store, tmp_path: Path) -> None:
    _ingest(store, tmp_path, _batch(40), "clean")
    got = check(store)
    assert got.runs == 1 and got.looked > 300 and got.opened == 0, got
    assert _open(store) == []


@BACKENDS
@pytest.mark.parametrize(("days", "fires"), [(19, True), (20, False)])
def test_the_bid_period_is_at_least_20_days(
    store: Store, tmp_path: Path, days: int, fires: bool
) -> None:
    recs = _batch(2)
    _ingest(store, tmp_path, recs, "night")
    check(store)
    ann = _first(recs, "TENDER_ANN_QUA_INQUERY_ANN")
    start = ann["record"]["DOC_GET_START_TIME"]
    _ingest(store, tmp_path, [_modify(ann, BID_DOC_REFER_END_TIME=_day(start, days))], "late")
    assert check(store).opened == int(fires)
    found = _open(store, "TL-BID-PERIOD")
    assert len(found) == int(fires)
    if fires:
        f = found[0]
        assert f["dataset"] == "TENDER_ANN_QUA_INQUERY_ANN" and f["severity"] == "critical"
        assert f["evidence"]["days"] == 19 and f["evidence"]["min_days"] == 20
        assert "第二十四条" in f["evidence"]["law"] and "19 day(s)" in f["message"]


@BACKENDS
def test_a_contract_across_two_records_and_its_correction(store: Store, tmp_path: Path) -> None:
    recs = _batch(2)
    _ingest(store, tmp_path, recs, "night")
    check(store)
    win = _first(recs, "WIN_RESULT_ANNO")
    section = win["record"]["BID_SECTION_CODE"]
    contract = next(
        r for r in recs
        if r["dataset"] == "CONTRACT_PERFORMANCE" and r["record"]["BID_SECTION_CODE"] == section
    )  # fmt: skip
    sent = win["record"]["NOTICE_SEND_TIME"]
    _ingest(store, tmp_path, [_modify(contract, CONTRACT_SIGN_TIME=_day(sent, 30))], "d30")
    assert check(store).opened == 0  # 30 days: in time
    late = _modify(contract, 90, CONTRACT_SIGN_TIME=_day(sent, 31))
    _ingest(store, tmp_path, [late], "d31")
    assert check(store).opened == 1
    [f] = _open(store, "TL-CONTRACT")
    assert f["other_dataset"] == "WIN_RESULT_ANNO" and f["evidence"]["link"] == section
    assert f["evidence"]["start"]["value"] == sent and "31 day(s)" in f["message"]
    # the county corrects the record: the finding clears, and stays in history
    fixed = _modify(contract, 120, CONTRACT_SIGN_TIME=_day(sent, 12))
    _ingest(store, tmp_path, [fixed], "fix")
    assert check(store).cleared == 1 and _open(store, "TL-CONTRACT") == []
    with store.read() as conn:
        assert [r["status"] for r in listing(conn, Window(), "TL-CONTRACT", None).rows] == [
            "cleared"
        ]


@BACKENDS
def test_a_rule_applies_only_while_in_force_and_provinces_override(
    store: Store, tmp_path: Path
) -> None:
    text = Path("schemas/supervision/statutory.toml").read_text("utf-8")
    recs = _batch(3)
    _ingest(store, tmp_path, recs, "night")
    ann = _first(recs, "TENDER_ANN_QUA_INQUERY_ANN")
    deadline = ann["record"]["BID_DOC_REFER_END_TIME"]
    region = next(r for r in recs if r["dataset"] == "TENDER_PROJECT")["record"]["REGION_CODE"]
    national = "min_days = 20\nin_force = { from = 2000-01-01 }"

    def pack(name: str, replacement: str) -> Path:
        p = tmp_path / name
        p.write_text(text.replace(national, replacement, 1), "utf-8")
        return p

    # in force from the day after the deadline: the 24 days are judged by nothing
    later = pack("later.toml", f"min_days = 30\nin_force = {{ from = {_iso(deadline, 1)} }}")
    assert check(store, [load_pack(later)], full=True).opened == 0
    # in force from the deadline's day: 24 days < 30, found
    on = pack("on.toml", f"min_days = 30\nin_force = {{ from = {_iso(deadline, 0)} }}")
    assert check(store, [load_pack(on)], full=True).opened == 3  # every announcement
    # a province asks 25 days where the nation asks 20: its own transactions alone are found
    province = region[:2]
    strict = tmp_path / "strict.toml"
    nxt = '[[rule]]\nid = "TL-BID-PERIOD-INV"'
    strict.write_text(text.replace(nxt, f'[rule.province."{province}"]\nmin_days = 25\n\n{nxt}'))
    p = load_pack(strict)
    bid = next(r for r in p.rule if r.id == "TL-BID-PERIOD")
    assert bid.limits(region) == (25, None) and bid.limits("990000") == (20, None)
    with store.write() as conn:
        conn.execute(Finding.__table__.delete())
    check(store, [p], full=True)
    found = {f["business_key"] for f in _open(store, "TL-BID-PERIOD")}
    mine = {
        _key(r) for r in recs if r["dataset"] == "TENDER_ANN_QUA_INQUERY_ANN"
        and r["record"].get("REGION_CODE", region)[:2] == province
    }  # fmt: skip
    assert found and found <= mine


def _iso(ts: str, days: int) -> str:
    d = date(int(ts[:4]), int(ts[4:6]), int(ts[6:8])) + timedelta(days=days)
    return d.isoformat()


@BACKENDS
def test_every_planted_violation_is_found_and_nothing_else(store: Store, tmp_path: Path) -> None:
    # the generator plants every pattern twice (hub generate --plant), each in sections of
    # its own, and says which finding each must give
    g = Generator(seed=9)
    recs = g.batch(100)
    planted = plant(g, recs, times=2)
    assert {p.rule for p in planted} == {r.id for p in load_packs() for r in p.rule}
    _ingest(store, tmp_path, recs, "night")
    check(store)
    found = {(f["rule"], f["business_key"]) for f in _open(store)}
    want = {(p.rule, p.key) for p in planted}
    hit = want & found
    recall, precision = len(hit) / len(want), len(hit) / max(len(found), 1)
    print(
        f"planted {len(want)}, found {len(found)}: recall {recall:.0%}, precision {precision:.0%}"
    )
    assert recall == 1.0 and precision == 1.0, (want - found, found - want)


def _key(r: Rec) -> str:
    from hub.dictionary.loader import load_dictionary
    from hub.reconcile.keys import key_plans

    return key_plans(load_dictionary())[r["dataset"]].key(r["record"])


@BACKENDS
def test_a_finding_is_reviewed_with_a_note_in_the_audit_log(
    store: Store, tmp_path: Path, run: Any
) -> None:
    recs = _batch(2)
    _ingest(store, tmp_path, recs, "night")
    pub = _first(recs, "TENDER_CANDIDATE_ANNOUNCE")
    s = pub["record"]["PUBLICITY_START_TIME"]
    _ingest(store, tmp_path, [_modify(pub, PUBLICITY_END_TIME=_day(s, 1))], "short")
    listed = run("findings", "check")
    assert listed.exit_code == 0 and "1 new finding(s)" in listed.output, listed.output
    out = json.loads(run("findings", "--format", "json").output)
    [f] = out["rows"]
    assert f["rule"] == "TL-CANDIDATE-PUBLICITY" and "1 day(s)" in f["message"]
    assert run("findings", "review", str(f["id"])).exit_code == 2  # a note is required
    ok = run("findings", "review", str(f["id"]), "--note", "县中心已核实：系录入错误")
    assert ok.exit_code == 0
    assert json.loads(run("findings", "--format", "json").output)["rows"] == []
    reviewed = json.loads(run("findings", "--status", "reviewed", "--format", "json").output)
    assert reviewed["rows"][0]["note"] == "县中心已核实：系录入错误"
    with store.read() as conn:
        assert (
            conn.execute(
                select(AuditEntry.action).where(AuditEntry.action == "finding.review")
            ).scalar()
            == "finding.review"
        )


def _bids(recs: list[Rec], section: str) -> list[Rec]:
    return [
        r for r in recs
        if r["dataset"] == "TENDER_LIST" and r["record"]["BID_SECTION_CODE"] == section
    ]  # fmt: skip


def _delete(r: Rec, stamp_days: int) -> Rec:
    rec = dict(r["record"])
    rec["DATA_TIMESTAMP"] = _day(rec["DATA_TIMESTAMP"], stamp_days)
    return {**r, "op": "delete", "record": rec}


@BACKENDS
def test_an_award_needs_three_bids(store: Store, tmp_path: Path) -> None:
    recs = _batch(3)
    _ingest(store, tmp_path, recs, "night")
    assert check(store).opened == 0  # the generator gives every section 3 to 6 bids
    section = _first(recs, "WIN_RESULT_ANNO")["record"]["BID_SECTION_CODE"]
    bids = _bids(recs, section)
    won = _first(recs, "WIN_RESULT_ANNO")["record"]["WIN_BIDDER_CODE"]
    losers = [b for b in bids if b["record"]["BIDDER_ORG_CODE"] != won]
    if len(bids) > 3:  # withdraw bids down to three: still lawful
        _ingest(store, tmp_path, [_delete(b, 40) for b in losers[: len(bids) - 3]], "to3")
    assert check(store).opened == 0
    _ingest(store, tmp_path, [_delete(losers[-1], 41)], "to2")  # two bids left
    assert check(store).opened == 1
    [f] = _open(store, "BID-FEWER-THAN-3")
    assert f["dataset"] == "WIN_RESULT_ANNO" and f["evidence"]["count"] == 2
    assert "第四十四条" in f["evidence"]["law"] and "2 bid(s)" in f["message"]


@BACKENDS
def test_two_equal_bid_prices_are_screened_and_cleared_when_corrected(
    store: Store, tmp_path: Path
) -> None:
    recs = _batch(2)
    _ingest(store, tmp_path, recs, "night")
    check(store)
    section = _first(recs, "TENDER_LIST")["record"]["BID_SECTION_CODE"]
    a, b = _bids(recs, section)[:2]
    price = a["record"]["BID_PRICE"]
    same = _modify(b, BID_PRICE=price.removesuffix(".00"))  # 1234 is 1234.00
    _ingest(store, tmp_path, [same], "same")
    assert check(store).opened == 1
    [f] = _open(store, "BID-SAME-PRICE")
    assert {r["key"] for r in f["evidence"]["records"]} == {_key(a), _key(b)}
    assert "第四十条" in f["evidence"]["law"] and price in f["message"]
    fixed = _modify(b, 90, BID_PRICE=str(float(price) + 1234))
    _ingest(store, tmp_path, [fixed], "fixed")
    assert check(store).cleared == 1 and _open(store, "BID-SAME-PRICE") == []


@BACKENDS
def test_a_finding_about_a_withdrawn_record_is_cleared(store: Store, tmp_path: Path) -> None:
    recs = _batch(2)
    _ingest(store, tmp_path, recs, "night")
    pub = _first(recs, "TENDER_CANDIDATE_ANNOUNCE")
    s = pub["record"]["PUBLICITY_START_TIME"]
    _ingest(store, tmp_path, [_modify(pub, PUBLICITY_END_TIME=_day(s, 1))], "short")
    assert check(store).opened == 1
    _ingest(store, tmp_path, [_delete(pub, 90)], "withdrawn")  # the county withdraws it
    assert check(store).cleared == 1 and _open(store) == []


def test_a_clean_batch_of_10000_transactions_yields_no_finding(
    store: Store, tmp_path: Path
) -> None:
    # 2,450 tendering projects and the deals of every other domain around them: 10,076
    # transactions (distinct UNIFIED_DEAL_CODEs), about 190,000 records
    recs = Generator(seed=11).batch(2450)
    deals = {r["record"]["UNIFIED_DEAL_CODE"] for r in recs if "UNIFIED_DEAL_CODE" in r["record"]}
    assert len(deals) >= 10_000
    _ingest(store, tmp_path, recs, "clean")
    got = check(store)
    found = _open(store)
    print(f"{len(deals)} transactions, {len(recs)} records, {got.looked} judgements: "
          f"{len(found)} finding(s)")  # fmt: skip
    assert got.looked > 200_000 and found == [], found[:5]
