"""The dictionary covers Appendix A, and re-importing it reproduces the committed files."""

from __future__ import annotations

import json

from hub.dictionary import Dictionary, importer
from hub.dictionary.paths import dictionary_dir, reference_tables, schemas_dir


def test_every_appendix_a_table_and_field(dictionary: Dictionary) -> None:
    tables = json.loads(reference_tables().read_text("utf-8"))["tables"]
    assert len(tables) == len(dictionary.datasets) == 104
    renamed = {("WIN_RESULT_ANNO", "TENDER_AGENCY_NAM"): "TENDER_AGENCY_NAME"}
    for t in tables:
        ds = dictionary.dataset(t["name"])
        assert ds.data_no == t["data_no"]
        for f in t["fields"]:
            fid = renamed.get((t["name"], f["id"]), f["id"])
            assert ds.field(fid) is not None, (t["name"], fid)
        for tf in t["trailer_fields"]:
            field = ds.field(tf)
            assert field is not None
            assert field.trailer
    full = [d for d in dictionary.datasets.values() if d.detail == "full"]
    assert len(full) == 81


def test_reimport_is_identical_to_committed_files() -> None:
    datasets, codesets = importer.build(reference_tables(), schemas_dir())
    files = importer.render(datasets, codesets)
    out = dictionary_dir()
    differ = [r for r, t in files.items() if (out / r).read_text("utf-8") != t]
    assert differ == [], "run `hub dictionary import`"
    assert len(list((out / "datasets").glob("*.json"))) == len(datasets)


def test_keys_parents_and_code_sets_are_consistent(dictionary: Dictionary) -> None:
    for ds in dictionary.datasets.values():
        assert ds.business_key
        for k in ds.business_key:
            assert ds.field(k) is not None, (ds.name, k)
        if ds.parent:
            parent = dictionary.dataset(ds.parent.dataset)
            assert set(ds.parent.fields.values()) == set(parent.business_key), ds.name
    closed = [c for c in dictionary.codesets.values() if c.status == "closed"]
    assert all(c.values for c in closed)
    assert "350100" in dictionary.codesets["REGION"].codes
    assert "156" in dictionary.codesets["CURRENCY"].codes


def test_section_hierarchy(dictionary: Dictionary) -> None:
    section = dictionary.dataset("SECTION")
    assert section.parent is not None
    assert section.parent.dataset == "TENDER_PROJECT"
    assert ("BID_SECTION_CODE", "TENDER_PROJECT_CODE") in section.prefixes
    assert dictionary.dataset("502") is section
    assert section.field("BID_ECTION_NUM") is not None
    assert "BID_SECTION_NUM" in section.field("BID_ECTION_NUM").aliases  # type: ignore[union-attr]


def test_every_data_set_carries_the_three_trailer_fields(dictionary: Dictionary) -> None:
    """Fujian requires PLATFORM_CODE, PUB_SERVICE_PLAT_CODE and DATA_TIMESTAMP on every add
    and modify (Context5FieldValidator, repository lishanling/GGZY).  212's reference rows
    give the last two under wrong identifiers (MAJOR_CODE 公共服务平台标识码, IS_MAIN
    数据时间戳); the dictionary restores them."""
    ebe = dictionary.dataset("EXPERT_BID_EVALUATION")
    for tf in ("PLATFORM_CODE", "PUB_SERVICE_PLAT_CODE", "DATA_TIMESTAMP"):
        field = ebe.field(tf)
        assert field is not None and field.trailer and field.required == "Y", tf
    major = ebe.field("MAJOR_CODE")
    assert major is not None and major.name_cn == "参评专业编号" and not major.trailer


def test_area_of_experts_and_violations_is_a_nine_digit_code(dictionary: Dictionary) -> None:
    """AREA in 212, 213 and 300: the reference's format (C9) and Fujian's check (FixedLength 9,
    Config/DataConfig/V4/212.json) agree on nine characters, a township-level division code;
    the reference's note "GB/T 2659 country code (3 digits)" is the odd one out."""
    for name in ("EXPERT_BID_EVALUATION", "EXPERT_EVALUATION", "VIOLATING_LAWS_RULES_INFO"):
        area = dictionary.dataset(name).field("AREA")
        assert area is not None and area.fixed_length == 9 and area.max_length == 9, name
        assert "2659" not in area.domain and area.codeset is None, name
