"""Generated schemas: not stale, accepted by independent validators."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs
import xmlschema

from hub.dictionary import Dictionary
from hub.dictionary.paths import generated_dir
from hub.schemagen import build
from tests.conftest import run_xmllint


def test_committed_schemas_are_not_stale(dictionary: Dictionary) -> None:
    stale = build.stale(dictionary, generated_dir())
    assert stale == [], "run `hub schemas build` and commit schemas/generated"


def test_xmllint_accepts_generated_batch(xmllint: str, generated: dict[str, Path]) -> None:
    xsd = generated_dir() / "xsd" / "batch.xsd"
    res = run_xmllint(xmllint, xsd, generated["xml"])
    assert res.returncode == 0, res.stderr[-2000:]
    assert "validates" in res.stderr


def test_xmllint_rejects_a_broken_batch(
    xmllint: str, tmp_path: Path, generated: dict[str, Path]
) -> None:
    text = generated["xml"].read_text("utf-8").replace("<PROJECT_CODE>", "<PROJECT_CODEX>", 1)
    text = text.replace("</PROJECT_CODE>", "</PROJECT_CODEX>", 1)
    bad = tmp_path / "bad.xml"
    bad.write_text(text, "utf-8")
    xsd = generated_dir() / "xsd" / "batch.xsd"
    res = run_xmllint(xmllint, xsd, bad)
    assert res.returncode != 0
    assert "PROJECT_CODEX" in res.stderr


def test_xmlschema_accepts_generated_batch(generated: dict[str, Path]) -> None:
    schema = xmlschema.XMLSchema(str(generated_dir() / "xsd" / "batch.xsd"))
    assert schema.is_valid(str(generated["xml"]))


def test_json_schemas_have_ids_and_validate_records(generated: dict[str, Path]) -> None:
    jdir = generated_dir() / "json"
    schemas = {p.name: json.loads(p.read_text("utf-8")) for p in jdir.glob("*.json")}
    assert len(schemas) == 104 + 2
    ids = [s["$id"] for s in schemas.values()]
    assert len(set(ids)) == len(ids)
    assert all(s["$schema"].endswith("2020-12/schema") for s in schemas.values())
    registry = jsonschema_rs.Registry([(s["$id"], s) for s in schemas.values()])
    envelope = jsonschema_rs.validator_for(schemas["record.schema.json"], registry=registry)
    lines = generated["jsonl"].read_text("utf-8").splitlines()
    assert lines
    assert all(envelope.is_valid(json.loads(x)) for x in lines)
    broken = json.loads(lines[0])
    broken["record"]["PROJECT_CODE"] = "short"
    assert not envelope.is_valid(broken)
