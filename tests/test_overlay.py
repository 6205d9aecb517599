"""Provincial overlays: Fujian's 9001–9021 on top of the national dictionary."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import load_config
from hub.dictionary.loader import Dictionary, load_dictionary
from hub.dictionary.overlay import Overlay, apply_overlay
from hub.dictionary.paths import generated_dir, schemas_dir
from hub.errors import ConfigError
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.ingest.outcome import Outcome, Verdict
from hub.ingest.pipeline import ingest_file
from hub.schemagen import build
from hub.store.engine import open_store
from hub.validation.files import validate_file
from hub.validation.validator import Validator
from tests.conftest import run_xmllint

FUJIAN = schemas_dir() / "overlays" / "fujian.toml"


@pytest.fixture(scope="module")
def fujian() -> Dictionary:
    return load_dictionary(overlays=("fujian",))


@pytest.fixture(scope="module")
def fujian_batch(fujian: Dictionary, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    records = Generator(seed=5, dictionary=fujian).batch(3)
    out = tmp_path_factory.mktemp("fujian")
    paths = {fmt: out / f"batch.{fmt}" for fmt in ("jsonl", "xml")}
    for fmt, p in paths.items():
        write_batch(records, p, fmt)
    return paths


def test_fujian_overlay_adds_its_21_data_sets_and_leaves_the_national_ones(
    fujian: Dictionary,
) -> None:
    national = load_dictionary(overlays=())
    added = {n: ds for n, ds in fujian.datasets.items() if n not in national.datasets}
    assert sorted(int(ds.data_no) for ds in added.values()) == list(range(9001, 9022))
    assert all(ds.overlay == "fujian" for ds in added.values())
    assert {n: fujian.datasets[n] for n in national.datasets} == national.datasets
    assert fujian.profile == "2.0+fujian" and national.profile == "2.0"
    # every field Appendix B.1 lists, in its order, with its Chinese name
    source = tomllib.loads(FUJIAN.read_text("utf-8"))["dataset"]
    for entry in source:
        ds = fujian.datasets[entry["name"]]
        assert [(f.id, f.name_cn) for f in ds.fields] == [(x[0], x[1]) for x in entry["fields"]]
    assert sum(len(ds.fields) for ds in added.values()) == 390
    # a field the national dictionary defines takes that definition; the others are untyped
    margin = fujian.datasets["BIDDER_MARGIN_INFO"]
    org = margin.field("BIDDER_ORG_CODE")
    assert org is not None and org.check is not None and org.required == "Y"
    bank = margin.field("MARGIN_BANK")
    assert bank is not None and not bank.typed and bank.required == "N"
    assert margin.parent is not None and margin.parent.dataset == "SECTION"
    assert ("BID_SECTION_CODE", "TENDER_PROJECT_CODE") in margin.prefixes


def test_committed_overlay_schemas_are_not_stale() -> None:
    profiles = {d.profile: d for d in build.profiles()}
    assert set(profiles) == {"2.0", "2.0+fujian", "2.0+shanxi"}
    for name in ("2.0+fujian", "2.0+shanxi"):
        stale = build.stale(profiles[name], generated_dir(name))
        assert stale == [], f"run `hub schemas build` and commit schemas/generated ({name})"


def test_generated_fujian_batch_validates_with_hub_and_xmllint(
    fujian: Dictionary, fujian_batch: dict[str, Path], xmllint: str
) -> None:
    v = Validator(fujian)
    for p in fujian_batch.values():
        report = validate_file(v, p)
        assert report.issues == [] and report.valid == report.records > 0
    lines = fujian_batch["jsonl"].read_text("utf-8").splitlines()
    sent = {json.loads(x)["dataset"] for x in lines}
    assert sent >= {n for n, ds in fujian.datasets.items() if ds.overlay}
    xsd = generated_dir(fujian.profile) / "xsd" / "batch.xsd"
    res = run_xmllint(xmllint, xsd, fujian_batch["xml"])
    assert res.returncode == 0, res.stderr[-2000:]


def test_national_node_does_not_know_fujian_sets_and_rules_apply_to_overlay_fields(
    fujian: Dictionary, fujian_batch: dict[str, Path], tmp_path: Path
) -> None:
    national = Validator(load_dictionary(overlays=()))
    issues = validate_file(national, fujian_batch["jsonl"]).issues
    assert {i.dataset for i in issues} == {n for n, ds in fujian.datasets.items() if ds.overlay}
    assert {i.rule for i in issues} == {"dataset.unknown"}
    assert "defined by the provincial overlay 'fujian'" in issues[0].message
    # a broken check character in a field the overlay took from the national dictionary
    lines = fujian_batch["jsonl"].read_text("utf-8").splitlines()
    n = next(i for i, x in enumerate(lines) if '"BIDDER_MARGIN_INFO"' in x)
    code = lines[n].split('"BIDDER_ORG_CODE":"')[1][:18]
    broken = code[:17] + ("0" if code[17] != "0" else "1")
    lines[n] = lines[n].replace(code, broken, 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", "utf-8")
    found = validate_file(Validator(fujian), bad).issues
    assert [(i.record, i.dataset, i.field, i.value) for i in found] == [
        (n + 1, "BIDDER_MARGIN_INFO", "BIDDER_ORG_CODE", broken)
    ]
    assert found[0].rule.startswith("check.")


@pytest.fixture
def node_with_fujian(tmp_path: Path) -> Iterator[Path]:
    cfg = tmp_path / "hub.toml"
    cfg.write_text(
        f'[store]\ndata_dir = "{tmp_path / "data"}"\n[dictionary]\noverlays = ["fujian"]\n',
        "utf-8",
    )
    yield cfg
    load_config(None)  # back to the national dictionary for the rest of the session


def test_a_node_configured_with_fujian_ingests_its_sets(
    node_with_fujian: Path, fujian_batch: dict[str, Path]
) -> None:
    cfg = load_config(node_with_fujian)
    assert load_dictionary().profile == "2.0+fujian"
    store = open_store(cfg)
    verdicts: list[Verdict] = []
    res = ingest_file(store, fujian_batch["jsonl"], "fj-county", on_verdict=verdicts.append)
    store.dispose()
    overlay_sets = {n for n, ds in load_dictionary().datasets.items() if ds.overlay}
    mine = [v for v in verdicts if v.dataset in overlay_sets]
    assert {v.dataset for v in mine} == overlay_sets
    assert {v.outcome for v in mine} == {Outcome.ACCEPTED}
    assert res.counts.records_in == res.counts.accepted + res.counts.duplicate


def test_unknown_overlay_in_configuration_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text('[dictionary]\noverlays = ["zhejiang"]\n', "utf-8")
    with pytest.raises(ConfigError, match=r"no provincial overlay 'zhejiang'.*known: fujian"):
        load_config(cfg)
    load_config(None)


def _overlay(text: str) -> Overlay:
    head = (
        'name = "test"\ntitle = "t"\nspec_version = "2.0"\nsource = "test fixture"\n'
        'domain = "工程建设"\nlibrary = "transactions"\n'
    )
    return Overlay.model_validate(tomllib.loads(head + text))


def test_an_overlay_may_extend_a_national_set_but_never_collide() -> None:
    national = load_dictionary(overlays=()).datasets
    ext = _overlay('[[extend]]\ndataset = "SECTION"\nfields = [["FJ_NOTE", "备注"]]\n')
    section = apply_overlay(national, ext, "2.0")["SECTION"]
    assert section.fields[-1].id == "FJ_NOTE" and section.fields[-1].required == "N"
    assert section.overlay == "test" and section.fields[:-1] == national["SECTION"].fields
    cases = {
        '[[extend]]\ndataset = "SECTION"\nfields = [["BID_SECTION_CODE", "x"]]\n': (
            "SECTION already has BID_SECTION_CODE"
        ),
        '[[extend]]\ndataset = "NOPE"\nfields = [["X", "x"]]\n': "'NOPE', which is not a national",
        '[[dataset]]\ndata_no = "9999"\nname = "PROJECT"\nname_cn = "x"\nkey = ["A"]\n'
        'fields = [["A", "a"]]\n': "9999 PROJECT collides with data set PROJECT",
        '[[dataset]]\ndata_no = "500"\nname = "NEW_SET"\nname_cn = "x"\nkey = ["A"]\n'
        'fields = [["A", "a"]]\n': "500 NEW_SET collides with data set PROJECT",
        '[[dataset]]\ndata_no = "9999"\nname = "NEW_SET"\nname_cn = "x"\nkey = ["B"]\n'
        'fields = [["A", "a"]]\n': "key fields not among its fields: B",
    }
    for text, message in cases.items():
        with pytest.raises(ConfigError) as exc:
            apply_overlay(national, _overlay(text), "2.0")
        assert message in str(exc.value.problems), text
