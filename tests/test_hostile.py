"""The hostile-input corpus (tests/hostile/, issue 21): every case through ``hub ingest`` on a
fresh store, ending in the outcome its manifest names, with nothing crashing, nothing lost
and nothing fetched (a loopback canary counts connections)."""

from __future__ import annotations

import json
import socket
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from hub.config import NodeConfig, StoreSection
from hub.store.engine import open_store
from hub.store.models import (
    Conflict,
    CurrentRecord,
    IssueRow,
    Quarantine,
    RecordVersion,
)

HERE = Path(__file__).parent / "hostile"
CASES = tomllib.loads((HERE / "manifest.toml").read_text("utf-8"))["case"]
FATES = ("accepted", "rejected", "quarantined", "held", "duplicate")


class Canary:
    """A loopback listener: any connection to it is something a case must not make."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.calls = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.calls += 1
            conn.close()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    c = Canary()
    yield c
    c.sock.close()


def _huge_text_node() -> bytes:
    """A PROJECT whose name is 12 MB of text (beyond libxml2's 10 MB for one node)."""
    one = (HERE / "xml/utf8-bom.xml").read_bytes().removeprefix(b"\xef\xbb\xbf")
    return one.replace("金山医院门诊楼工程".encode(), b"x" * 12_000_000)


GENERATED = {"xml/huge-text-node.xml": _huge_text_node}  # too big to keep in the repository


def _name(case: dict[str, Any]) -> str:
    return str(case.get("file") or case["generated"])


def test_the_corpus_is_what_its_manifest_lists() -> None:
    listed = [c["file"] for c in CASES if "file" in c]
    assert sorted(c["generated"] for c in CASES if "generated" in c) == sorted(GENERATED)
    files = sorted(
        str(p.relative_to(HERE)) for p in HERE.rglob("*") if p.suffix in (".xml", ".jsonl")
    )
    assert sorted(listed) == files and len(set(listed)) == len(listed)
    assert all(c["why"] and "exit" in c for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[_name(c) for c in CASES])
def test_every_case_ends_in_its_outcome(
    case: dict[str, Any], run: Any, tmp_path: Path, database_url: str, canary: Canary
) -> None:
    if "generated" in case:
        data = GENERATED[case["generated"]]()
    else:
        data = (HERE / case["file"]).read_bytes().replace(b"CANARY", str(canary.port).encode())
    path = tmp_path / Path(_name(case)).name
    path.write_bytes(data)
    before = canary.calls
    res = run("ingest", str(path), "--source", "hostile", "--format", "json")
    assert res.exit_code == case["exit"], res.output
    assert "Traceback" not in res.output and "root:x:0" not in res.output
    out = json.loads(res.output[res.output.index("{") : res.output.rindex("}") + 1])
    assert canary.calls == before, f"{_name(case)} made a connection"
    if "code" in case:  # the whole file refused, with its reason
        assert out["code"] == case["code"] and str(path) in out["error"]
        return
    fates = {f: out[f] for f in FATES}
    assert sum(fates.values()) == out["records_in"]  # conservation
    assert fates == {f: case.get(f, 0) for f in FATES}, fates
    store = open_store(NodeConfig(store=StoreSection(url=database_url, data_dir=tmp_path)))
    try:
        with store.read() as conn:
            rules = {
                rule
                for model in (IssueRow, Quarantine)
                for rule in conn.scalars(select(model.rule).where(model.run_id == out["run_id"]))
            }
            conflicts = conn.scalar(select(func.count()).select_from(Conflict))
            if want := case.get("current"):  # the record that stands after the run
                q = (
                    select(RecordVersion.content)
                    .join(CurrentRecord, CurrentRecord.version_id == RecordVersion.id)
                    .where(CurrentRecord.dataset == want["dataset"])
                )
                [content] = conn.scalars(q).all()
                assert orjson.loads(content)[want["field"]] == want["value"]
    finally:
        store.dispose()
    assert set(case.get("rules", [])) <= rules, rules
    assert conflicts == case.get("conflicts", 0)


def test_the_canary_hears_a_connection(canary: Canary) -> None:
    """The listener the cases are checked against does count: one connection shows."""
    import time

    before = canary.calls
    socket.create_connection(("127.0.0.1", canary.port)).close()
    deadline = time.monotonic() + 5
    while canary.calls == before and time.monotonic() < deadline:
        time.sleep(0.01)
    assert canary.calls == before + 1


ADAPTERS = tomllib.loads((HERE / "manifest.toml").read_text("utf-8"))["adapter"]


def test_every_adapter_case_names_a_test_that_exists() -> None:
    """The adapter cases run beside their real peers; each names its test, which must be
    there (a test function, or a method of the class named)."""
    import ast

    root = HERE.parents[1]
    assert len(ADAPTERS) >= 10
    for case in ADAPTERS:
        assert case["why"] and case["outcome"], case
        path, *names = case["test"].split("::")
        tree = ast.parse((root / path).read_text("utf-8"))
        scope: list[ast.stmt] = tree.body
        for name in names:
            found = [n for n in scope if isinstance(n, ast.FunctionDef | ast.ClassDef)
                     and n.name == name]  # fmt: skip
            assert found, f"{case['case']}: {case['test']} does not exist"
            scope = found[0].body if isinstance(found[0], ast.ClassDef) else []
