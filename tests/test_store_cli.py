"""The store's commands: ingest, show, lifecycle, quarantine, stats, db, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from hub.config import NodeConfig
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.ingest.pipeline import ingest_file
from hub.store.engine import open_store
from tests.conftest import BACKENDS

COUNT_KEYS = ("records_in", "accepted", "rejected", "quarantined", "held", "duplicate")


def _batch(tmp_path: Path, seed: int = 21, n: int = 2, rate: float = 0.0) -> tuple[Path, list[Any]]:
    gen = Generator(seed=seed)
    records = gen.batch(n)
    if rate:
        gen.inject_defects(records, rate)
    path = tmp_path / f"b{seed}-{rate}.jsonl"
    write_batch(records, path, "jsonl")
    return path, records


@BACKENDS
def test_ingest_json_has_integer_counts_and_rerun_is_all_duplicate(
    run: Any, tmp_path: Path
) -> None:
    path, records = _batch(tmp_path)
    first = run("ingest", str(path), "--source", "county-a", "--format", "json")
    assert first.exit_code == 0, first.output
    data = orjson.loads(first.output)
    assert all(isinstance(data[k], int) for k in COUNT_KEYS)
    assert data["records_in"] == len(records) == data["accepted"]
    again = orjson.loads(
        run("ingest", str(path), "--source", "county-a", "--format", "json").output
    )
    assert again["duplicate"] == len(records) and again["accepted"] == 0


def test_ingest_with_defects_exits_1_and_table_names_rules(run: Any, tmp_path: Path) -> None:
    path, _ = _batch(tmp_path, seed=22, rate=0.2)
    res = run("ingest", str(path), "--source", "county-a")
    assert res.exit_code == 1
    assert "rejected: check." in res.output or "rejected: codeset." in res.output


def test_ingest_unreadable_file_exits_2(run: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.xml"
    bad.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><BATCH/>')
    res = run("ingest", str(bad), "--source", "county-a", "--format", "json")
    assert res.exit_code == 2
    assert orjson.loads(res.stdout)["code"] == "xml.dtd"


def test_lifecycle_shows_the_chain_in_order(run: Any, tmp_path: Path) -> None:
    path, records = _batch(tmp_path, seed=23, n=1)
    run("ingest", str(path), "--source", "county-a")
    code = records[0]["record"]["PROJECT_CODE"]
    res = run("lifecycle", code, "--format", "json")
    rows = orjson.loads(res.output)["records"]
    # every generated record that names this project (or a code beginning with it) is there
    chain = {r["dataset"] for r in records if code in orjson.dumps(r["record"]).decode()}
    assert {r["dataset"] for r in rows} == chain
    own = [r for r in rows if r["library"] == "transactions"]
    assert [r["dataset"] for r in own[:3]] == ["PROJECT", "TENDER_PROJECT", "SECTION"]
    assert [r["data_timestamp"] for r in own] == sorted(r["data_timestamp"] for r in own)
    assert rows[: len(own)] == own  # other libraries' records come after the chain
    assert "TENDER_PROJECT" in run("lifecycle", code).output


def test_show_has_current_history_and_provenance(run: Any, tmp_path: Path) -> None:
    path, records = _batch(tmp_path, seed=24, n=1)
    run("ingest", str(path), "--source", "county-a")
    run("ingest", str(path), "--source", "city")
    code = records[0]["record"]["PROJECT_CODE"]
    data = orjson.loads(run("show", "PROJECT", code, "--format", "json").output)
    assert data["current"]["content"]["PROJECT_CODE"] == code
    assert [v["source"] for v in data["history"]] == ["county-a"]
    assert [s["source"] for s in data["sightings"]] == ["city"]
    missing = run("show", "PROJECT", "NO-SUCH-KEY")
    assert missing.exit_code == 2 and "PROJECT_CODE" in missing.output


def test_quarantine_replay_after_the_parent_arrives(
    run: Any, tmp_path: Path, node_config: NodeConfig
) -> None:
    records = Generator(seed=25).batch(1)
    child = [r for r in records if r["dataset"] == "TENDER_PROJECT"][:1]
    parent = [r for r in records if r["dataset"] == "PROJECT"]
    store = open_store(node_config)
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    p1, p2, p3 = (tmp_path / f"{n}.jsonl" for n in ("child", "parent", "other"))
    write_batch(child, p1, "jsonl")
    write_batch(parent, p2, "jsonl")
    write_batch([r for r in records if r["dataset"] == "LEGAL_PERSON_BASE"][:1], p3, "jsonl")
    ingest_file(store, p1, "county-a", now=t0)
    ingest_file(store, p3, "county-a", now=t0 + timedelta(days=4))  # the hold expires
    ingest_file(store, p2, "county-a", now=t0 + timedelta(days=5))
    store.dispose()
    listed = orjson.loads(run("quarantine", "list", "--format", "json").output)["rows"]
    assert [q["rule"] for q in listed] == ["hold.expired"]
    shown = run("quarantine", "show", str(listed[0]["id"]))
    assert "TENDER_PROJECT" in shown.output
    res = orjson.loads(run("quarantine", "replay", "--all", "--format", "json").output)
    assert res["accepted"] == 1 and res["outcomes"] == {str(listed[0]["id"]): "accepted"}
    assert orjson.loads(run("quarantine", "list", "--format", "json").output)["rows"] == []


def test_stats_per_library_dataset_and_source(run: Any, tmp_path: Path) -> None:
    path, _ = _batch(tmp_path, seed=26, rate=0.2)
    run("ingest", str(path), "--source", "county-a")
    data = orjson.loads(run("stats", "--format", "json").output)
    libs = {r["library"] for r in data["libraries"]}
    assert {"transactions", "entities"} <= libs
    [src] = data["sources"]
    assert src["source"] == "county-a" and 0 < src["issue_rate"] < 1
    assert data["rules"] and data["datasets"]
    assert "libraries" in run("stats").output


def test_db_status_and_audit_verify(run: Any, tmp_path: Path) -> None:
    path, _ = _batch(tmp_path, seed=27, n=1)
    run("ingest", str(path), "--source", "county-a")
    assert run("db", "status").exit_code == 0
    res = run("audit", "verify")
    assert res.exit_code == 0 and "intact" in res.output


@BACKENDS
def test_db_check_finds_a_store_sound_and_names_what_broke(
    run: Any, tmp_path: Path, database_url: str
) -> None:
    from sqlalchemy import text

    path, _ = _batch(tmp_path, seed=27, n=1)
    run("ingest", str(path), "--source", "county-a")
    (tmp_path / "hub-data" / "raw" / ".incoming-killed").write_bytes(b"half")  # a kill's litter
    res = run("db", "check", "--deep", "--format", "json")
    assert res.exit_code == 0, res.output
    got = orjson.loads(res.output)
    assert got["sound"] and [c["name"] for c in got["checks"]] == [
        "database", "current records", "audit chain", "raw store", "leftovers",
    ]  # fmt: skip
    assert "1 temporary raw file" in got["checks"][4]["detail"]
    [obj] = list((tmp_path / "hub-data" / "raw").glob("??/*"))
    obj.write_bytes(obj.read_bytes().replace(b"PROJECT", b"PROJEKT", 1))  # altered evidence
    store = open_store(NodeConfig.model_validate({"store": {"url": database_url}}))
    with store.write() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'intruder' WHERE id = 1"))
        conn.execute(text("UPDATE current_record SET content_hash = 'x' WHERE version_id = "
                          "(SELECT MIN(version_id) FROM current_record)"))  # fmt: skip
    store.dispose()
    shallow = run("db", "check")
    assert shallow.exit_code == 1 and "FAILED" in shallow.output
    res = run("db", "check", "--deep", "--format", "json")
    assert res.exit_code == 1
    failed = {c["name"]: c for c in orjson.loads(res.output)["checks"] if not c["ok"]}
    assert set(failed) == {"current records", "audit chain", "raw store"}, failed
    assert "1 of " in failed["current records"]["detail"]
    assert "broken at entry 1" in failed["audit chain"]["detail"]
    assert "1 altered" in failed["raw store"]["detail"] and failed["raw store"]["hint"]


def test_temporary_files_of_killed_writers_are_removed_by_the_next_write(
    run: Any, tmp_path: Path
) -> None:
    import os
    import time

    first, _ = _batch(tmp_path, seed=27, n=1)
    run("ingest", str(first), "--source", "county-a")
    raw = tmp_path / "hub-data" / "raw"
    killed, writing = raw / ".incoming-killed", raw / ".incoming-writing"
    killed.write_bytes(b"half a batch")
    writing.write_bytes(b"still arriving")
    old = time.time() - 2 * 3600
    os.utime(killed, (old, old))  # untouched for two hours: its writer is gone
    second, _ = _batch(tmp_path, seed=28, n=1)
    assert run("ingest", str(second), "--source", "county-a").exit_code == 0
    assert not killed.exists() and writing.exists()
    got = orjson.loads(run("db", "check", "--format", "json").output)
    assert "1 temporary raw file" in got["checks"][4]["detail"]
