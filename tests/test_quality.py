"""Data quality per source and month, each dimension checked against what the test put in:
missing mandatory fields, rejected and quarantined records, corrections sent again,
quarantine replayed, records stamped two hours before they arrive, a supervision finding."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.generate.generator import Generator
from hub.ingest.pipeline import ingest_file
from hub.ingest.replay import replay
from hub.store.engine import Store
from hub.supervise.findings import check
from hub.supervise.quality import scores
from tests.conftest import BACKENDS

Rec = dict[str, Any]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _write(tmp_path: Path, name: str, recs: list[Rec], extra: str = "") -> Path:
    p = tmp_path / f"{name}.jsonl"
    p.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs) + "\n" + extra)
    return p


def _stamped(recs: list[Rec], hours_ago: float) -> list[Rec]:
    ts = (datetime.now(UTC) - timedelta(hours=hours_ago)).astimezone(SHANGHAI)
    stamp = f"{ts:%Y%m%d%H%M%S}"
    return [
        {**r, "record": {**r["record"], "DATA_TIMESTAMP": stamp}}
        if "DATA_TIMESTAMP" in r["record"]  # a few data sets have none
        else r
        for r in recs
    ]


@BACKENDS
def test_every_dimension_counts_what_happened(store: Store, tmp_path: Path) -> None:
    recs = _stamped(Generator(seed=8).batch(2), hours_ago=2)
    n = len(recs)
    # one record loses a mandatory field (rejected), one line is not a record (quarantined)
    award = next(r for r in recs if r["dataset"] == "WIN_RESULT_ANNO")  # nothing hangs from it
    broken = json.loads(json.dumps(award))
    del broken["record"]["NOTICE_NAME"]
    night = [r for r in recs if r is not award] + [broken]
    first = ingest_file(store, _write(tmp_path, "night", night, '{"dataset": 7}\n'), "county-a")
    assert (first.counts.rejected, first.counts.quarantined) == (1, 1), first.counts
    [row] = _one(store)
    assert row["records"] == n + 1
    assert row["completeness"] == round((n + 1 - 1) / (n + 1), 4)
    assert row["compliance"] == round((n + 1 - 2) / (n + 1), 4)
    assert row["timely_p50_h"] is not None and 1.9 <= row["timely_p50_h"] <= 2.2
    assert row["timeliness"] == 1.0  # within 24 hours
    assert (row["to_repair"], row["repaired"], row["repair_rate"]) == (2, 0, 0.0)
    # the county sends the award again, corrected: one of the two is repaired
    again = {
        **broken,
        "record": {**broken["record"], "NOTICE_NAME": "青山县城区道路改造工程中标结果公告"},
    }
    ingest_file(store, _write(tmp_path, "fixed", _stamped([again], 1)), "county-a")
    [row] = _one(store)
    assert (row["to_repair"], row["repaired"]) == (2, 1)
    # the quarantined line cannot be replayed into a record: it stays unrepaired
    replay(store)
    assert _one(store)[0]["repaired"] == 1
    # a finding on one accepted record lowers accuracy by one record
    pub = next(r for r in recs if r["dataset"] == "TENDER_CANDIDATE_ANNOUNCE")
    short = {**pub, "op": "modify", "record": {**pub["record"]}}
    short["record"]["PUBLICITY_END_TIME"] = short["record"]["PUBLICITY_START_TIME"]
    ingest_file(store, _write(tmp_path, "short", _stamped([short], 0.5)), "county-a")
    assert check(store).opened == 1
    [row] = _one(store)
    accepted = row["accepted"]
    assert accepted == n + 1  # n - 1 the first night, the corrected award, the short publicity
    assert row["accuracy"] == round((accepted - 1) / accepted, 4)


def _one(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        return scores(conn, source="county-a")


@BACKENDS
def test_comprehensiveness_and_the_html_report(store: Store, tmp_path: Path, run: Any) -> None:
    recs = Generator(seed=8).batch(6)  # stamped March 2024: every section is long due
    sections = sorted(r["record"]["BID_SECTION_CODE"] for r in recs if r["dataset"] == "SECTION")
    ended = {r["record"]["BID_SECTION_CODE"] for r in recs
             if r["dataset"] == "TENDER_ABNORMITY_REPORT"}  # fmt: skip
    open_ = [s for s in sections if s not in ended]
    # one section's award and another's evaluation report never arrive
    no_award, no_report = open_[0], open_[1]
    kept = [
        r for r in recs
        if not (r["dataset"] == "WIN_RESULT_ANNO" and r["record"]["BID_SECTION_CODE"] == no_award)
        and not (r["dataset"] == "EVALUATION_REPORT"
                 and r["record"]["BID_SECTION_CODE"] == no_report)
    ]  # fmt: skip
    ingest_file(store, _write(tmp_path, "night", kept), "county-a")
    [row] = _one(store)
    assert row["comprehensiveness"] == round((len(sections) - 2) / len(sections), 4)
    with store.read() as conn:
        from hub.supervise.coverage import coverage

        c = coverage(conn)["county-a"]
    assert (c.due, c.complete) == (len(sections), len(sections) - 2)
    assert c.missing == {"WIN_RESULT_ANNO": 1, "EVALUATION_REPORT": 1}
    assert {e["section"] for e in c.examples} == {no_award, no_report}
    # not yet due: a section announced today owes nothing
    with store.read() as conn:
        assert coverage(conn, now=datetime(2024, 3, 2, tzinfo=UTC))["county-a"].due == 0
    # the report: one file, nothing fetched, each county's charts and what failed
    out = tmp_path / "q" / "quality.html"
    res = run("quality", "--report", str(out))
    assert res.exit_code == 0, res.output
    html = out.read_text("utf-8")
    assert "county-a" in html and html.count("<svg") == 1 and "全面性" in html
    assert no_award in html and "中标结果" in html  # the drill-down names the section
    assert "<script" not in html and "<link" not in html and "src=" not in html


@BACKENDS
def test_a_package_that_never_arrived_lowers_comprehensiveness(
    store: Store, tmp_path: Path, run: Any
) -> None:
    """A county numbers its signed packages 1, 2, 3; the second is lost on the way: 全面性
    counts the county's due sections times 2 of 3 packages, and the report names number 2."""
    import io

    from hub.generate.batch import jsonl_bytes
    from hub.package import testpki
    from hub.package.build import build, data_lines
    from hub.package.receive import receive_package
    from hub.supervise.coverage import coverage
    from tests.packkit import NOW, RECEIVER, make_pki, node_id

    (tmp_path / "pki").mkdir()
    pki = make_pki(tmp_path / "pki")
    me = node_id(testpki.make_node(pki.ca, "ecdsa", RECEIVER, NOW, 40))
    later = NOW + timedelta(minutes=1)
    unnumbered, _ = build({"PROJECT": [b"{}"]}, pki.good, RECEIVER, now=NOW)
    assert unnumbered.sequence is None and b"sequence" not in unnumbered.encode()
    for number, seed in ((1, 8), (3, 9)):  # number 2 never arrives
        lines = data_lines(io.BytesIO(jsonl_bytes(Generator(seed=seed).batch(2))), "gen")
        m, data = build(lines, pki.good, RECEIVER, now=NOW, sequence=number)
        assert f'"sequence": {number}'.encode() in m.encode()  # in the signed bytes
        got = receive_package(store, data, "p.zip", pki.trust, me, source="county-b", now=later)
        assert got.status == "processed"
    with store.read() as conn:
        c = coverage(conn)["county-b"]
    assert (c.packages, c.numbered, c.lost) == (2, 3, [2])
    assert c.due and c.share == round(c.complete / c.due * 2 / 3, 4)
    with store.read() as conn:
        [row] = scores(conn, source="county-b")
    assert row["comprehensiveness"] == c.share
    out = tmp_path / "quality.html"
    assert run("quality", "--report", str(out)).exit_code == 0
    assert "2 of the 3 the source numbered arrived; never arrived: <code>2</code>" in out.read_text(
        "utf-8"
    )
