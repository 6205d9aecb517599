"""Mappings: the transforms, the loader's checks, golden outputs and mapped ingest."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from hub import plugins
from hub.cli import cli
from hub.errors import ConfigError, InputError
from hub.ingest.pipeline import ingest_file
from hub.ingest.replay import replay
from hub.mapping import check_mapping, load_mapping
from hub.mapping.records import iter_mapped
from hub.mapping.transforms import BUILTIN, Context, TransformError
from hub.store.engine import Store
from hub.store.models import Quarantine
from hub.validation.validator import Validator
from tests.legacy import GOLDEN, SAMPLES, csv_bytes, golden_check, with_dotted_update_time

ROOT = Path(__file__).resolve().parent.parent
QINGSHAN = ROOT / "mappings" / "qingshan-csv.toml"


def _t(name: str, args: Any = None, tables: dict[str, dict[str, str]] | None = None) -> Any:
    return plugins.load(plugins.TRANSFORMS, name).parse(args, Context(tables or {}))


# -- transforms ---------------------------------------------------------------------------
def test_every_built_in_transform_is_registered_under_its_name() -> None:
    registered = plugins.available(plugins.TRANSFORMS)
    assert {cls.name for cls in BUILTIN} <= set(registered)
    for cls in BUILTIN:
        assert plugins.load(plugins.TRANSFORMS, cls.name) is cls


def test_transforms_on_legacy_values() -> None:
    assert _t("trim")("\u3000 西山县 \xa0") == "西山县"
    date = _t("date", {"from": ["%Y/%m/%d %H:%M:%S", "%Y-%m-%d"], "to": "yyyyMMddHHmmss"})
    assert date("2024/03/01 18:07:05") == "20240301180705"
    assert date("2024-03-01") == "20240301000000"
    with pytest.raises(TransformError, match=r"'2024/02/30 10:00:00' is not a date"):
        date("2024/02/30 10:00:00")  # no such day
    scale = _t("scale", 10000)
    assert scale("42245.221937") == "422452219.37"  # 万元 → 元, exact
    assert scale("1,234.5") == "12345000"
    assert scale(Decimal("0.000001")) == "0.01"
    with pytest.raises(TransformError, match="is not a number"):
        scale("十二万")
    codes = _t("codes", "mode", {"mode": {"公开招标": "1", "邀请招标": "2"}})
    assert codes(" 公开招标 ") == "1"
    assert codes(["公开招标", "邀请招标"]) == ["1", "2"]
    with pytest.raises(TransformError, match=r"'竞争性谈判' is not in \[codes.mode\]"):
        codes("竞争性谈判")
    keep = _t("codes", {"map": {"a": "1"}, "otherwise": "keep"})
    assert keep("b") == "b"
    assert _t("split", ["，", "、"])("A01，A02、 A03") == ["A01", "A02", "A03"]
    assert _t("join")(["A01", "A02"]) == "A01;A02"
    assert _t("concat", "-")(["A", None, "B"]) == "A-B"
    assert _t("empty_if", ["-", "无"])(" 无 ") is None
    assert _t("default", "156")("") == "156"
    assert _t("const", "0")("anything") == "0"


def test_transform_arguments_are_checked_when_built() -> None:
    with pytest.raises(ValueError, match="no code table"):
        _t("codes", "nope")
    with pytest.raises(ValueError):
        _t("scale", "lots")
    with pytest.raises(ValueError, match="takes no arguments"):
        _t("trim", 3)
    with pytest.raises(ValueError):
        _t("date", {"from": [], "to": "yyyyMMdd"})


# -- loading ------------------------------------------------------------------------------
def test_a_broken_mapping_reports_every_problem_at_once_with_file_and_key(tmp_path: Path) -> None:
    text = QINGSHAN.read_text("utf-8")
    text = text.replace('"邀请招标" = "2"', '"邀请招标" = "7"')  # not a national code
    text = text.replace("{ scale = 10000 }", '{ scale = "lots" }')
    text = text.replace(
        '{ codes = "yes_no" }] }\nTENDER_PROJECT_NAME', '{ codez = "x" }] }\nTENDER_PROJECT_NAME'
    )
    text = text.replace('PROJECT_NAME = { from = "项目名称"', 'PROJEKT_NAME = { from = "项目名称"')
    text = text.replace('BID_SECTION_CODE = { from = "标段编号", steps = ["trim"] }\n', "")
    bad = tmp_path / "bad.toml"
    bad.write_text(text, "utf-8")
    checked = check_mapping(bad)
    assert checked.mapping is None
    errs = "\n".join(checked.errors)
    expected = [
        "[dataset[TENDER_PROJECT].fields.TENDER_MODE.steps[1]] translates into '7'",
        "[dataset[SECTION].fields.CONTRACT_RECKON_PRICE.steps[0]] scale:",
        "[dataset[TENDER_PROJECT].fields.IS_TO_LAW.steps[1]] unknown transform 'codez'; "
        "the installed ones are: codes, concat",
        "[dataset[PROJECT].fields.PROJEKT_NAME] 'PROJEKT_NAME' is not a field of PROJECT",
        "[dataset[SECTION].fields] the business key of SECTION needs BID_SECTION_CODE",
    ]
    for e in expected:
        assert f"{bad}: {e}" in errs
    assert len(checked.errors) == 6  # the five above, and BID_TENDER_MODE's '7'
    with pytest.raises(ConfigError) as exc:
        load_mapping(bad)
    assert len(exc.value.problems) == 6
    r = CliRunner().invoke(cli, ["mapping", "check", str(bad), "--format", "json"])
    assert r.exit_code == 1
    (report,) = json.loads(r.stdout)
    assert report["ok"] is False and len(report["errors"]) == 6


def test_the_shipped_mappings_load_without_errors_or_warnings() -> None:
    for path in sorted((ROOT / "mappings").glob("*.toml")):
        checked = check_mapping(path)
        assert checked.errors == [] and checked.warnings == [], path
    r = CliRunner().invoke(cli, ["mapping", "check", str(QINGSHAN)])
    assert r.exit_code == 0, r.output
    assert "PROJECT" in r.stdout and "BD_*.csv" in r.stdout


# -- golden: 青山县 GBK CSV -------------------------------------------------------------------
def _mapped_jsonl(mapping_path: Path, inputs: list[Path]) -> str:
    mapping, v = load_mapping(mapping_path), Validator()
    lines = []
    for f in inputs:
        with f.open("rb") as fh:
            for r in iter_mapped(mapping, v, fh, f.name):
                assert r.issues == [], [i.message for i in r.issues]
                env = {"dataset": r.raw.dataset, "op": r.raw.op, "key": r.raw.key}
                lines.append(json.dumps({**env, "record": r.raw.fields}, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def test_golden_qingshan_csv_maps_to_the_expected_records_with_no_issues() -> None:
    inputs = sorted(SAMPLES.glob("*.csv"))
    assert [p.name for p in inputs] == ["BD_20240301.csv", "XM_20240301.csv", "ZBXM_20240301.csv"]
    golden_check(GOLDEN / "qingshan" / "expected.jsonl", _mapped_jsonl(QINGSHAN, inputs))


def test_golden_qingshan_preview_output() -> None:
    sample = SAMPLES / "BD_20240301.csv"
    runner = CliRunner(env={"COLUMNS": "150"})
    r = runner.invoke(
        cli,
        [
            "mapping",
            "preview",
            str(QINGSHAN),
            "--sample",
            str(sample),
            "--limit",
            "2",
            "--format",
            "json",
        ],
    )
    assert r.exit_code == 0, r.output
    golden_check(GOLDEN / "qingshan" / "preview-BD.json", r.stdout)
    r = runner.invoke(
        cli, ["mapping", "preview", str(QINGSHAN), "--sample", str(sample), "--limit", "1"]
    )
    assert r.exit_code == 0, r.output
    golden_check(GOLDEN / "qingshan" / "preview-BD.txt", r.stdout)


def test_preview_shows_a_bad_value_and_exits_1(tmp_path: Path) -> None:
    rows = [
        {
            "招标项目编号": "E1",
            "标段编号": "E1001",
            "估算价(万元)": "十二万",
            "更新时间": "2024/13/01",
        }
    ]
    mini = tmp_path / "mini.toml"
    mini.write_text(
        '[mapping]\nname = "mini"\n[input]\nformat = "csv"\nencoding = "gbk"\n'
        '[[dataset]]\nname = "SECTION"\nmatch = "BD_*"\n[dataset.fields]\n'
        'TENDER_PROJECT_CODE = "招标项目编号"\nBID_SECTION_CODE = "标段编号"\n'
        'CONTRACT_RECKON_PRICE = { from = "估算价(万元)", steps = [{ scale = 10000 }] }\n',
        "utf-8",
    )
    sample = tmp_path / "BD_1.csv"
    sample.write_bytes(csv_bytes(rows))
    r = CliRunner().invoke(
        cli, ["mapping", "preview", str(mini), "--sample", str(sample), "--format", "json"]
    )
    assert r.exit_code == 1
    (rec,) = json.loads(r.stdout)
    (issue,) = rec["issues"]
    assert issue["rule"] == "mapping.value" and issue["field"] == "CONTRACT_RECKON_PRICE"
    assert issue["value"] == "十二万" and "line 2" in issue["message"]


# -- input problems -------------------------------------------------------------------------
def test_wrong_encoding_and_missing_columns_refuse_the_input_with_the_place(
    tmp_path: Path,
) -> None:
    mapping, v = load_mapping(QINGSHAN), Validator()
    src = (SAMPLES / "XM_20240301.csv").read_bytes()
    utf8 = tmp_path / "XM_utf8.csv"
    utf8.write_bytes(src.decode("gbk").encode("utf-8"))  # the export's encoding was changed
    with utf8.open("rb") as fh, pytest.raises(InputError) as exc:
        list(iter_mapped(mapping, v, fh, utf8.name))
    assert exc.value.code == "input.encoding" and "not valid gbk" in exc.value.reason
    short = tmp_path / "XM_short.csv"
    short.write_bytes(src.decode("gbk").replace("审批文号", "批文").encode("gbk"))
    with short.open("rb") as fh, pytest.raises(InputError) as exc:
        list(iter_mapped(mapping, v, fh, short.name))
    assert exc.value.code == "mapping.columns" and "['审批文号']" in exc.value.reason
    other = tmp_path / "ZB_1.csv"
    other.write_bytes(src)
    with other.open("rb") as fh, pytest.raises(InputError) as exc:
        list(iter_mapped(mapping, v, fh, other.name))
    assert exc.value.code == "mapping.nomatch"


# -- mapped ingest, quarantine and replay after a mapping fix ----------------------------
BACKENDS = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@BACKENDS
def test_mapped_ingest_quarantines_the_source_row_and_replays_it_after_a_fix(
    store: Store, tmp_path: Path
) -> None:
    mapping = load_mapping(QINGSHAN)
    for name in ("XM_20240301.csv", "ZBXM_20240301.csv"):
        res = ingest_file(store, SAMPLES / name, "qingshan", mapping=mapping)
        assert res.counts.accepted == res.counts.records_in == 3
    # the system starts writing dates with a new separator the mapping does not know yet
    src = (SAMPLES / "BD_20240301.csv").read_bytes().decode("gbk")
    lines = src.split("\r\n")
    lines[1], dotted = with_dotted_update_time(lines[1])
    bd = tmp_path / "BD_20240302.csv"
    bd.write_bytes("\r\n".join(lines).encode("gbk"))
    res = ingest_file(store, bd, "qingshan", mapping=mapping)
    assert (res.counts.accepted, res.counts.quarantined) == (5, 1)
    with store.read() as conn:
        (q,) = conn.execute(select(Quarantine)).all()
    assert q.rule == "mapping.value" and q.raw_format == "row"
    assert dotted in q.message and "DATA_TIMESTAMP" in q.message
    kept = json.loads(q.raw_record)
    assert kept["row"]["更新时间"] == dotted and kept["line"] == 2

    # replay with the old mapping: still quarantined; with the fixed one: accepted
    counts, outcomes = replay(store, mappings=lambda s: mapping if s == "qingshan" else None)
    assert outcomes == {q.id: "quarantined"}
    fixed_text = QINGSHAN.read_text("utf-8").replace(
        '"%Y-%m-%d %H:%M"], to = "yyyyMMddHHmmss"',
        '"%Y-%m-%d %H:%M", "%Y.%m.%d %H:%M:%S"], to = "yyyyMMddHHmmss"',
    )
    fixed_path = tmp_path / "qingshan-fixed.toml"
    fixed_path.write_text(fixed_text, "utf-8")
    fixed = load_mapping(fixed_path)
    counts, outcomes = replay(store, mappings=lambda s: fixed if s == "qingshan" else None)
    assert outcomes == {q.id: "accepted"} and counts.accepted == 1
    # and the same input again, through the fixed mapping: all duplicates
    res = ingest_file(store, bd, "qingshan", mapping=fixed)
    assert res.counts.duplicate == 6


def test_mappings_folder_is_data_only() -> None:
    files = [p for p in (ROOT / "mappings").rglob("*") if p.is_file()]
    assert {p.suffix for p in files} <= {".toml", ".md", ".csv"}
    assert all(p.suffix == ".csv" for p in files if p.parent.name != "mappings")


def test_golden_xishan_preview_output() -> None:
    """The sql county: a pulled page of t_biaoduan (JSONL rows) through its mapping."""
    mapping = ROOT / "mappings" / "xishan-mariadb.toml"
    sample = GOLDEN / "xishan" / "t_biaoduan.jsonl"
    runner = CliRunner(env={"COLUMNS": "150"})
    r = runner.invoke(
        cli, ["mapping", "preview", str(mapping), "--sample", str(sample), "--format", "json"]
    )
    assert r.exit_code == 0, r.output
    golden_check(GOLDEN / "xishan" / "preview-t_biaoduan.json", r.stdout)
    r = runner.invoke(
        cli, ["mapping", "preview", str(mapping), "--sample", str(sample), "--limit", "1"]
    )
    assert r.exit_code == 0, r.output
    golden_check(GOLDEN / "xishan" / "preview-t_biaoduan.txt", r.stdout)
