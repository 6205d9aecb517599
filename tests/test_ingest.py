"""The ingest pipeline and reconcile, against SQLite and the local PostgreSQL."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from hub.config import IngestSection, NodeConfig, StoreSection
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.ingest.outcome import Outcome, Verdict
from hub.ingest.pipeline import RunResult, ingest_file
from hub.store import audit
from hub.store.engine import Store, open_store
from hub.store.models import (
    Conflict,
    CurrentRecord,
    EntityClaim,
    Hold,
    Quarantine,
    RecordRef,
    RecordVersion,
    Sighting,
    SyncRun,
)
from tests.conftest import BACKENDS

Record = dict[str, Any]
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _ingest(
    store: Store, tmp_path: Path, records: list[Record], source: str = "county-a", **kw: Any
) -> tuple[RunResult, list[Verdict]]:
    path = tmp_path / f"in-{len(list(tmp_path.iterdir()))}.jsonl"
    write_batch(records, path, "jsonl")
    verdicts: list[Verdict] = []
    res = ingest_file(store, path, source, on_verdict=verdicts.append, **kw)
    return res, verdicts


def _count(store: Store, model: Any, *where: Any) -> int:
    with store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def _current(store: Store, dataset: str, key: str) -> Any:
    with store.read() as conn:
        return conn.execute(
            select(CurrentRecord, RecordVersion.content)
            .join(RecordVersion, RecordVersion.id == CurrentRecord.version_id)
            .where(CurrentRecord.dataset == dataset, CurrentRecord.business_key == key)
        ).one_or_none()


def _project(code: str = "P-1", ts: str = "20240301090000", **extra: str) -> Record:
    gen = Generator(seed=1)
    rec = next(r for r in gen.batch(1) if r["dataset"] == "PROJECT")
    rec = copy.deepcopy(rec)
    rec["record"]["DATA_TIMESTAMP"] = ts
    rec["record"].update(extra)
    return rec


@BACKENDS
def test_ingest_accepts_all_then_again_is_all_duplicate(store: Store, tmp_path: Path) -> None:
    records = Generator(seed=11).batch(3)
    first, verdicts = _ingest(store, tmp_path, records)
    c = first.counts
    assert c.records_in == len(records) and c.conserved
    assert c.accepted + c.duplicate == len(records) and c.rejected == c.quarantined == 0
    assert all(v.version and v.version >= 1 for v in verdicts if v.outcome is Outcome.ACCEPTED)
    versions = _count(store, RecordVersion)
    assert versions == c.accepted
    again, _ = _ingest(store, tmp_path, records)
    assert again.counts.duplicate == len(records) and again.counts.accepted == 0
    assert _count(store, RecordVersion) == versions
    with store.read() as conn:
        runs = conn.execute(select(SyncRun.status, SyncRun.records_in)).all()
        assert [tuple(r) for r in runs] == [("done", len(records))] * 2
        assert audit.verify(conn).broken_at is None


@BACKENDS
def test_conservation_with_planted_defects(store: Store, tmp_path: Path) -> None:
    gen = Generator(seed=12)
    records = gen.batch(6)
    planted = gen.inject_defects(records, 0.15)
    res, verdicts = _ingest(store, tmp_path, records)
    c = res.counts
    assert c.conserved and c.records_in == len(records) == len(verdicts)
    defective = {d.record for d in planted}
    rejected = {v.index for v in verdicts if v.outcome is Outcome.REJECTED}
    assert rejected == defective  # every planted defect rejects its record, nothing else
    # children of a rejected parent wait for it rather than vanish
    assert c.held == sum(1 for v in verdicts if v.outcome is Outcome.HELD)
    assert _count(store, Hold, Hold.status == "held") == c.held


@BACKENDS
def test_newer_timestamp_wins_and_late_older_version_is_history(
    store: Store, tmp_path: Path
) -> None:
    old = _project(ts="20240301090000", PROJECT_NAME="旧名称")
    new = _project(ts="20240302090000", PROJECT_NAME="新名称")
    key = new["record"]["PROJECT_CODE"]
    _ingest(store, tmp_path, [new])
    _, [v] = _ingest(store, tmp_path, [old])
    assert v.outcome is Outcome.ACCEPTED and v.message == "history" and v.version == 2
    cur = _current(store, "PROJECT", key)
    assert orjson.loads(cur.content)["PROJECT_NAME"] == "新名称" and cur.versions == 2


@BACKENDS
def test_same_timestamp_other_content_is_a_conflict(store: Store, tmp_path: Path) -> None:
    a = _project(PROJECT_NAME="甲")
    b = _project(PROJECT_NAME="乙")
    _ingest(store, tmp_path, [a], source="county-a")
    _, [v] = _ingest(store, tmp_path, [b], source="county-b")
    assert v.message == "conflict"
    cur = _current(store, "PROJECT", a["record"]["PROJECT_CODE"])
    assert cur.conflict is True
    assert _count(store, Conflict, Conflict.status == "open") == 1


@BACKENDS
def test_delete_is_a_tombstone_that_an_older_add_cannot_undo(store: Store, tmp_path: Path) -> None:
    add = _project(ts="20240301090000")
    delete = copy.deepcopy(add)
    delete["op"], delete["record"]["DATA_TIMESTAMP"] = "delete", "20240305090000"
    late = _project(ts="20240303090000", PROJECT_NAME="迟到的修改")
    _ingest(store, tmp_path, [add, delete])
    _ingest(store, tmp_path, [late])
    cur = _current(store, "PROJECT", add["record"]["PROJECT_CODE"])
    assert cur.deleted is True and cur.versions == 3


@BACKENDS
def test_child_is_held_until_its_parent_arrives(store: Store, tmp_path: Path) -> None:
    records = Generator(seed=13).batch(1)
    parents = [r for r in records if r["dataset"] == "PROJECT"]
    children = [r for r in records if r["dataset"] == "TENDER_PROJECT"]
    assert parents and children
    res, verdicts = _ingest(store, tmp_path, children)
    assert res.counts.held == len(children) and all(v.outcome is Outcome.HELD for v in verdicts)
    res2, _ = _ingest(store, tmp_path, parents)
    assert res2.counts.accepted == len(parents) and res2.counts.released == len(children)
    assert _count(store, Hold, Hold.status == "released") == len(children)
    key = children[0]["record"]["TENDER_PROJECT_CODE"]
    assert _current(store, "TENDER_PROJECT", key) is not None


@BACKENDS
def test_held_child_is_quarantined_at_its_deadline(store: Store, tmp_path: Path) -> None:
    records = Generator(seed=14).batch(1)
    child = [r for r in records if r["dataset"] == "TENDER_PROJECT"][:1]
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    _ingest(store, tmp_path, child, now=t0)
    later, _ = _ingest(store, tmp_path, [_project(code="other")], now=t0 + timedelta(hours=73))
    assert later.expired_holds == 1
    with store.read() as conn:
        q = conn.execute(select(Quarantine)).one()
    assert q.rule == "hold.expired" and orjson.loads(q.raw_record)["dataset"] == "TENDER_PROJECT"


@BACKENDS
def test_malformed_lines_are_quarantined_with_the_raw_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    good = orjson.dumps(_project())
    path.write_bytes(good + b'\n{"dataset": "PROJECT", "record": {"A": 1, "A": 2}}\n{not json\n')
    verdicts: list[Verdict] = []
    res = ingest_file(store, path, "county-a", on_verdict=verdicts.append)
    assert [v.outcome for v in verdicts] == [
        Outcome.ACCEPTED,
        Outcome.QUARANTINED,
        Outcome.QUARANTINED,
    ]
    assert res.counts.conserved
    with store.read() as conn:
        raws = conn.execute(select(Quarantine.raw_record).order_by(Quarantine.id)).scalars().all()
    assert raws == ['{"dataset": "PROJECT", "record": {"A": 1, "A": 2}}', "{not json"]
    again = ingest_file(store, path, "county-a")
    assert again.counts.quarantined == 2 and _count(store, Quarantine) == 2  # not twice


@BACKENDS
def test_one_entity_from_two_sources_keeps_both_claims(store: Store, tmp_path: Path) -> None:
    gen = Generator(seed=15)
    ent = next(r for r in gen.batch(2) if r["dataset"] == "LEGAL_PERSON_BASE")
    other = copy.deepcopy(ent)
    other["record"]["LEGAL_NAME"] = ent["record"]["LEGAL_NAME"] + "(分公司)"
    other["record"]["DATA_TIMESTAMP"] = "20240401090000"
    _ingest(store, tmp_path, [ent], source="county-a")
    _ingest(store, tmp_path, [other], source="county-b")
    code = ent["record"]["LEGAL_CODE"]
    with store.read() as conn:
        claims = conn.execute(
            select(EntityClaim.source, EntityClaim.name).where(EntityClaim.code == code)
        ).all()
    names = {s: n for s, n in claims}  # noqa: C416
    assert names["county-a"] != names["county-b"]
    assert _current(store, "LEGAL_PERSON_BASE", code).versions == 2


@BACKENDS
def test_same_version_from_another_source_is_a_sighting(store: Store, tmp_path: Path) -> None:
    rec = _project()
    _ingest(store, tmp_path, [rec], source="county-a")
    _, [v] = _ingest(store, tmp_path, [rec], source="city")
    assert v.outcome is Outcome.DUPLICATE and v.version == 1
    assert _count(store, Sighting, Sighting.source == "city") == 1


@BACKENDS
def test_the_sources_cursor_moves_only_when_the_whole_input_is_in(
    store: Store, tmp_path: Path
) -> None:
    from hub.config import IngestSection
    from hub.store.models import SourceCursor

    def cursor() -> str:
        with store.read() as conn:
            return str(conn.execute(select(SourceCursor.cursor)).scalar_one())

    records = Generator(seed=16).batch(1)
    _ingest(store, tmp_path, records[:3], cursor="2024-03-01T00:00")
    assert cursor() == "2024-03-01T00:00"

    def crash(_n: int) -> None:
        raise RuntimeError("the process dies after its first commit")

    with pytest.raises(RuntimeError):
        _ingest(
            store,
            tmp_path,
            records[3:9],
            cursor="2024-03-02T00:00",
            settings=IngestSection(chunk_records=2),
            on_progress=crash,
        )
    # the first chunk committed; the cursor still says where the last complete input ended
    assert cursor() == "2024-03-01T00:00"
    _ingest(store, tmp_path, records[3:9], cursor="2024-03-02T00:00")
    assert cursor() == "2024-03-02T00:00"


@pytest.mark.parametrize("fmt", ["jsonl", "xml"])
def test_validation_in_a_second_process_gives_the_same_verdicts_and_store(
    tmp_path: Path, fmt: str
) -> None:
    """Large inputs are validated in a forked child; the outcome must not depend on it."""
    gen = Generator(seed=13)
    records = gen.batch(5)
    gen.inject_defects(records, 0.1)
    records.append({"dataset": "NO_SUCH_SET", "op": "add", "record": {"X": "1"}})  # quarantined
    path = tmp_path / f"in.{fmt}"
    write_batch(records, path, fmt)
    seen: dict[bool, tuple[list[Verdict], list[Any], list[Any]]] = {}
    for parallel in (False, True):
        cfg = NodeConfig(store=StoreSection(data_dir=tmp_path / f"p{parallel}"))
        settings = IngestSection(chunk_records=25, parallel_validation=parallel, parallel_from_mb=0)
        store = open_store(cfg)
        verdicts: list[Verdict] = []
        ingest_file(store, path, "county-a", settings=settings, now=NOW, on_verdict=verdicts.append)
        with store.read() as conn:
            versions = conn.execute(
                select(
                    RecordVersion.dataset, RecordVersion.business_key, RecordVersion.content
                ).order_by(RecordVersion.id)
            ).all()
            quarantined = conn.execute(
                select(Quarantine.record_index, Quarantine.rule, Quarantine.raw_record).order_by(
                    Quarantine.id
                )
            ).all()
            # what the validating process prepares (links, entity claims, held envelopes)
            derived = [
                conn.execute(select(RecordRef).order_by(*RecordRef.__table__.primary_key)).all(),
                conn.execute(
                    select(EntityClaim).order_by(*EntityClaim.__table__.primary_key)
                ).all(),
                conn.execute(
                    select(Hold.record_index, Hold.parent_key, Hold.envelope).order_by(Hold.id)
                ).all(),
            ]
        store.dispose()
        seen[parallel] = (
            verdicts,
            [tuple(v) for v in versions],
            [tuple(q) for q in quarantined],
            [[tuple(r) for r in rows] for rows in derived],
        )
    assert seen[True] == seen[False]
    refs, claims, holds = seen[True][3]
    assert refs and claims and holds  # each kind of derivation was compared
    verdicts = seen[True][0]
    assert {v.outcome for v in verdicts} >= {
        Outcome.ACCEPTED,
        Outcome.REJECTED,
        Outcome.QUARANTINED,
    }


def test_envelope_op_or_key_that_is_not_a_string_is_rejected_not_read_as_add(
    store: Store, tmp_path: Path, validator: Any
) -> None:
    good = _project()
    lines = []
    for op, key in ((1, "k"), (["add"], "k"), ("add", 17), ({"x": 1}, None)):
        env = dict(good, op=op, key=key) if key is not None else dict(good, op=op)
        lines.append(orjson.dumps(env))
    path = tmp_path / "envelopes.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    from hub.validation.files import validate_file

    report = validate_file(validator, path)
    assert report.valid == 0 and [i.rule for i in report.issues] == ["record.envelope"] * 4
    assert "a number 1, expected a string" in report.issues[0].message
    verdicts: list[Verdict] = []
    res = ingest_file(store, path, "county-a", on_verdict=verdicts.append)
    assert res.counts.rejected == 4 and res.counts.accepted == 0
    assert {v.rule for v in verdicts} == {"record.envelope"}


def test_a_huge_rejected_value_is_kept_bounded_with_its_size_and_hash(
    store: Store, tmp_path: Path
) -> None:
    import hashlib

    from hub.store.models import IssueRow
    from hub.validation.issues import VALUE_LIMIT

    huge = "工" * 3_000_000  # 9 MB in UTF-8, far over PROJECT_NAME's length
    rec = _project(PROJECT_NAME=huge)
    res, [v] = _ingest(store, tmp_path, [rec])
    assert res.counts.rejected == 1 and v.value is not None
    digest = hashlib.sha256(huge.encode()).hexdigest()
    assert len(v.value) <= VALUE_LIMIT and digest in v.value and "9000000 bytes" in v.value
    with store.read() as conn:
        stored = conn.execute(select(IssueRow.value)).scalars().all()
    assert stored and all(len(s or "") <= VALUE_LIMIT for s in stored)
