"""Every record's fate from the CLI: runs, rejected, held, conflicts, quarantine discard, and
statistics that count distinct records."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson

from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from tests.conftest import BACKENDS


def _json(res: Any) -> Any:
    assert res.exit_code == 0, res.output
    return orjson.loads(res.output)


def _defective(tmp_path: Path) -> tuple[Path, int]:
    gen = Generator(seed=41)
    records = gen.batch(3)
    gen.inject_defects(records, 0.15)
    path = tmp_path / "bad.jsonl"
    write_batch(records, path, "jsonl")
    return path, len(records)


@BACKENDS
def test_runs_rejected_and_held_after_a_resend_and_stats_stay_distinct(
    run: Any, tmp_path: Path
) -> None:
    path, n = _defective(tmp_path)
    first = orjson.loads(
        run("ingest", str(path), "--source", "county-a", "--format", "json").output
    )
    second = orjson.loads(
        run("ingest", str(path), "--source", "county-a", "--format", "json").output
    )
    assert first["rejected"] > 0 and first["held"] > 0
    assert second["accepted"] == 0 and second["duplicate"] == first["accepted"]

    runs = _json(run("runs", "--format", "json"))
    assert [r["id"] for r in runs["rows"]] == [second["run_id"], first["run_id"]]
    assert runs["rows"][1]["top_reason"] and runs["next_before"] is None
    page = _json(run("runs", "--limit", "1", "--format", "json"))
    assert len(page["rows"]) == 1 and page["next_before"] == second["run_id"]
    rest = _json(
        run("runs", "--limit", "1", "--before", str(page["next_before"]), "--format", "json")
    )
    assert [r["id"] for r in rest["rows"]] == [first["run_id"]]
    assert _json(run("runs", "--source", "nobody", "--format", "json"))["rows"] == []
    assert (
        _json(run("runs", "--since", "2000-01-01", "--until", "2000-01-02", "--format", "json"))[
            "rows"
        ]
        == []
    )

    detail = _json(run("runs", "show", str(first["run_id"]), "--format", "json"))
    rejected_here = {i["record_index"] for i in detail["issues"] if i["outcome"] == "rejected"}
    assert len(rejected_here) == first["rejected"]
    assert all(i["rule"] and i["message"] for i in detail["issues"])
    table = run("runs", "show", str(first["run_id"]))
    assert "issues of its records" in table.output

    rej = _json(run("rejected", "--limit", "10000", "--format", "json"))["rows"]
    assert {r["run_id"] for r in rej} == {first["run_id"], second["run_id"]}
    one_rule = rej[0]["rule"]
    only = _json(run("rejected", "--rule", one_rule, "--limit", "10000", "--format", "json"))
    assert {r["rule"] for r in only["rows"]} == {one_rule}
    held = _json(run("held", "--limit", "10000", "--format", "json"))["rows"]
    assert len(held) == first["held"]  # the same record held twice is one hold
    assert all(h["parent_key"] and h["deadline"] for h in held)

    stats = _json(run("stats", "--format", "json"))
    [src] = stats["sources"]
    assert src["records_in"] == 2 * n
    assert src["rejected"] == first["rejected"] and src["held"] == first["held"]
    assert src["accepted"] == first["accepted"]
    assert src["duplicate"] == n  # the whole re-send, nothing more rejected or held
    assert src["records_in"] == sum(
        src[k] for k in ("accepted", "rejected", "quarantined", "held", "duplicate")
    )


def _project_pair(tmp_path: Path) -> tuple[Path, Path, str]:
    rec = next(r for r in Generator(seed=1).batch(1) if r["dataset"] == "PROJECT")
    a, b = copy.deepcopy(rec), copy.deepcopy(rec)
    a["record"]["PROJECT_NAME"] = "城南道路改造工程"
    b["record"]["PROJECT_NAME"] = "城南道路改造工程（一期）"
    pa, pb = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_batch([a], pa, "jsonl")
    write_batch([b], pb, "jsonl")
    return pa, pb, rec["record"]["PROJECT_CODE"]


@BACKENDS
def test_a_conflict_is_listed_compared_and_resolved_with_an_audit_entry(
    run: Any, tmp_path: Path
) -> None:
    pa, pb, code = _project_pair(tmp_path)
    run("ingest", str(pa), "--source", "county-a")
    run("ingest", str(pb), "--source", "county-b")
    [c] = _json(run("conflicts", "--format", "json"))["rows"]
    assert c["business_key"] == code and {v["source"] for v in c["versions"]} == {
        "county-a",
        "county-b",
    }
    shown = run("conflicts", "show", str(c["id"]))
    assert "PROJECT_NAME" in shown.output and "county-b" in shown.output
    take = next(v["version_no"] for v in c["versions"] if not v["current"])
    wrong = run("conflicts", "resolve", str(c["id"]), "--take", "99")
    assert wrong.exit_code == 2 and "take one of" in wrong.output
    assert "PROJECT_NAME" in run("conflicts", "show", code).output  # by business key too
    res = run("conflicts", "resolve", code, "--take", str(take), "--note", "县里核实")
    assert res.exit_code == 0, res.output
    assert _json(run("conflicts", "--format", "json"))["rows"] == []
    cur = _json(run("show", "PROJECT", code, "--format", "json"))["current"]
    assert cur["conflict"] is False
    taken = next(v for v in c["versions"] if v["version_no"] == take)
    assert cur["content"]["PROJECT_NAME"] == taken["content"]["PROJECT_NAME"]
    assert run("conflicts", "resolve", str(c["id"]), "--take", str(take)).exit_code == 2
    lifecycle = _json(run("lifecycle", code, "--format", "json"))["records"]
    assert any(r["dataset"] == "PROJECT" for r in lifecycle)  # links follow the version taken
    [entry] = _json(run("audit", "list", "--action", "conflict.resolve", "--format", "json"))[
        "rows"
    ]
    assert entry["actor"].startswith("cli:") and "县里核实" in entry["detail"]
    assert run("audit", "verify").exit_code == 0


@BACKENDS
def test_quarantine_discard_keeps_the_raw_record_and_needs_a_reason(
    run: Any, tmp_path: Path
) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text('{"dataset": "NO_SUCH_SET", "op": "add", "record": {"A": "1"}}\n')
    run("ingest", str(path), "--source", "county-a")
    [q] = _json(run("quarantine", "list", "--format", "json"))["rows"]
    assert q["rule"] == "dataset.unknown" and "NO_SUCH_SET" in q["message"]
    assert run("quarantine", "discard", str(q["id"])).exit_code == 2  # --reason is required
    res = run("quarantine", "discard", str(q["id"]), "--reason", "测试数据，县里已撤回")
    assert res.exit_code == 0, res.output
    assert _json(run("quarantine", "list", "--format", "json"))["rows"] == []
    [gone] = _json(run("quarantine", "list", "--all", "--format", "json"))["rows"]
    assert gone["status"] == "discarded" and gone["note"] == "测试数据，县里已撤回"
    kept = _json(run("quarantine", "show", str(q["id"]), "--format", "json"))
    assert "NO_SUCH_SET" in kept["raw_record"]
    again = run("quarantine", "discard", str(q["id"]), "--reason", "x")
    assert again.exit_code == 2 and "not open" in again.output
    [entry] = _json(run("audit", "list", "--action", "quarantine.discard", "--format", "json"))[
        "rows"
    ]
    assert "县里已撤回" in entry["detail"]
    assert run("audit", "verify").exit_code == 0
