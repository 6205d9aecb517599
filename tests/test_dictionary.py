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
