"""The national tendering public service platform's camelCase XML (CEB) through the shipped
mapping mappings/ceb-xml.toml: one document per record, chosen by its root element; what CEB
lacks is declared absent (warned, never filled in), its priceUnit coding translated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.ingest.outcome import Outcome, Verdict
from hub.ingest.pipeline import ingest_file
from hub.mapping.load import check_mapping, load_mapping
from hub.store.engine import Store
from hub.store.models import CurrentRecord, RecordVersion, table
from tests.conftest import BACKENDS

ROOT = Path(__file__).resolve().parents[1]
CEB = ROOT / "mappings" / "ceb-xml.toml"
DOCS = Path(__file__).parent / "interop" / "ceb"
CUR, VER = table(CurrentRecord), table(RecordVersion)


@BACKENDS
def test_ceb_documents_become_national_records(store: Store, database_url: str) -> None:
    mapping = load_mapping(CEB)
    verdicts: list[Verdict] = []
    for name in ("bidSection", "tenderProject", "project"):  # children first: held, released
        ingest_file(
            store, DOCS / f"{name}.xml", "ceb-county", mapping=mapping, on_verdict=verdicts.append
        )
    assert [v.outcome for v in verdicts] == [Outcome.HELD, Outcome.HELD, Outcome.ACCEPTED]
    with store.read() as conn:
        rows = conn.execute(
            select(CUR.c.dataset, VER.c.sender_key, VER.c.content).join(
                VER, VER.c.id == CUR.c.version_id
            )
        ).all()
    got = {r.dataset: (r.sender_key, json.loads(r.content)) for r in rows}
    assert set(got) == {"PROJECT", "TENDER_PROJECT", "SECTION"}  # the holds were released
    key, section = got["SECTION"]
    assert key == "E1401052411200001001001"
    assert section["PRICE_UNIT"] == "1" and section["CONTRACT_RECKON_PRICE"] == "3860.25"
    assert section["DATA_TIMESTAMP"] == "20241120103000"  # CEB's version
    _, tender = got["TENDER_PROJECT"]
    assert tender["TRADE_PLAT"] == "P1400000009" and tender["REPORT_DUTY"] == "赵丽娟"
    assert "TENDERER_CODE_TYPE" not in tender and "IS_TO_LAW" not in tender  # not invented
    assert got["PROJECT"][1]["CONTACTOR"] == "李晓峰"  # CEB's connector


def test_what_ceb_lacks_is_warned_per_field_and_the_rest_is_an_error(tmp_path: Path) -> None:
    from hub.mapping.preview import preview
    from hub.validation.validator import Validator

    [rec] = preview(load_mapping(CEB), DOCS / "tenderProject.xml", Validator(), 5)
    assert {(i.rule, i.severity) for i in rec.issues} == {("mapping.absent", "warning")}
    assert {i.field for i in rec.issues} == {
        "IS_TO_LAW",
        "TENDER_PROJECT_TYPE",
        "TENDERER_CODE_TYPE",
        "ISUNION",
        "TENDERER_ROLE",
        "TENDER_AGENCY_ROLE",
        "TENDER_AGENCY_CODE_TYPE",  # mandatory here because an agency tenders (form 2)
    }
    assert "declares it absent" in rec.issues[0].message
    # a mandatory field the mapping does not declare absent stays an error
    text = CEB.read_text("utf-8").replace('"IS_TO_LAW", ', "")
    (tmp_path / "m.toml").write_text(text, "utf-8")
    assert any("IS_TO_LAW" in w for w in check_mapping(tmp_path / "m.toml").warnings)
    [rec] = preview(load_mapping(tmp_path / "m.toml"), DOCS / "tenderProject.xml", Validator(), 5)
    assert ("required", "IS_TO_LAW", "error") in {(i.rule, i.field, i.severity) for i in rec.issues}


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (('absent = ["RELATE_CODE"', 'absent = ["ADDRESS", "RELATE_CODE"'), "'ADDRESS' is mapped"),
        (('absent = ["RELATE_CODE"', 'absent = ["INVEST_PROJECT_CODE", "RELATE_CODE"'), None),
        (('absent = ["RELATE_CODE"', 'absent = ["CONTRIBUTION_SCALE", "RELATE_CODE"'), "never"),
        (('absent = ["RELATE_CODE"', 'absent = ["NO_SUCH", "RELATE_CODE"'), "not a field"),
    ],
)
def test_an_absent_list_is_checked(tmp_path: Path, change: tuple[str, str], words: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(CEB.read_text("utf-8").replace(*change), "utf-8")
    errors = check_mapping(path).errors
    if words is None:  # INVEST_PROJECT_CODE: mandatory when RELATE_CODE = 1, so it may be
        assert errors == []
        return
    assert len(errors) == 1 and "[dataset[PROJECT].absent]" in errors[0] and words in errors[0]


def test_a_document_no_dataset_reads_is_refused_naming_what_is_read(tmp_path: Path) -> None:
    doc = tmp_path / "x.xml"
    doc.write_text("<winBid><bidSectionCode>E1</bidSectionCode></winBid>", "utf-8")
    from hub.errors import InputError
    from hub.mapping.records import iter_mapped
    from hub.validation.validator import Validator

    with pytest.raises(InputError) as exc, doc.open("rb") as fh:
        list(iter_mapped(load_mapping(CEB), Validator(), fh, str(doc)))
    assert exc.value.code == "mapping.nomatch"
    assert "its match patterns: bidSection, project, tenderProject" in exc.value.reason
