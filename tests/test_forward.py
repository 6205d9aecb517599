"""Forwarding to a target: a city node's accepted records go, collapsed, in signed packages to
a real `hub serve` of the province; its signed receipt comes back and each record's verdict
is kept; the breaker and the lease live in the store."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from adapters.http import HttpAdapter
from hub.cli import cli
from hub.config import NodeConfig, SigningSection, StoreSection, TrustSection
from hub.dictionary.loader import load_dictionary
from hub.forward import forward, outbox
from hub.forward import target as target_state
from hub.forward.deliver import D
from hub.forward.outbox import decide
from hub.generate.batch import jsonl_bytes
from hub.generate.generator import Generator
from hub.ingest.pipeline import ingest_stream
from hub.query.records import as_seen_by, show
from hub.schedule.scheduler import Scheduler
from hub.sections import ForwardSection
from hub.service.app import create_app
from hub.store.engine import Store, open_store
from hub.store.models import (
    AuditEntry,
    CurrentRecord,
    ForwardItem,
    Package,
    RecordVersion,
    table,
)
from tests.conftest import BACKENDS
from tests.httpserver import serve
from tests.packkit import RECEIVER, Pki, make_pki, receiving_node
from tests.webkit import free_port

CUR, VER, ITEM = table(CurrentRecord), table(RecordVersion), table(ForwardItem)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(autouse=True)
def _no_waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(HttpAdapter, "sleep", staticmethod(lambda _s: None))
    HttpAdapter._breakers.clear()
    yield
    HttpAdapter._breakers.clear()


def _city(tmp: Path, pki: Pki, url: str, db: str = "", **target: Any) -> tuple[NodeConfig, Store]:
    """A city node signing as the test PKI's good sender, forwarding to the province."""
    cfg = NodeConfig(
        store=StoreSection(data_dir=tmp / "city", url=db),
        trust=TrustSection(anchors=[pki.dir / "ca.pem"], crls=[pki.dir / "ca.crl"]),
        signing=SigningSection(key=pki.dir / "node.key", cert=pki.dir / "node.pem"),
        forward={
            "province": ForwardSection(
                receiver=RECEIVER,
                options={"url": url, "backoff_seconds": 0.01, "max_attempts": 2},
                **target,
            )
        },
    )
    return cfg, open_store(cfg)


@pytest.fixture
def province(tmp_path: Path, pki: Pki) -> Iterator[tuple[str, Store]]:
    node = receiving_node(NodeConfig(store=StoreSection(data_dir=tmp_path / "province")), pki)
    store = open_store(node)
    try:
        with serve(create_app(node, store)) as url:
            yield url, store
    finally:
        store.dispose()


def _ingest(store: Store, envelopes: list[dict[str, Any]]) -> None:
    ingest_stream(store, io.BytesIO(jsonl_bytes(envelopes)), "county-a", "night.jsonl")


def _current(store: Store) -> dict[tuple[str, str], tuple[str, bool]]:
    with store.read() as conn:
        return {
            (r.dataset, r.business_key): (r.content_hash, r.deleted)
            for r in conn.execute(
                select(CUR.c.dataset, CUR.c.business_key, CUR.c.content_hash, CUR.c.deleted)
            )
        }


def _later(env: dict[str, Any], op: str, **fields: str) -> dict[str, Any]:
    rec = dict(env["record"]) | fields
    rec["DATA_TIMESTAMP"] = str(int(rec["DATA_TIMESTAMP"]) + 100)  # 1 minute later
    return {**env, "op": op, "record": rec}


@pytest.mark.parametrize(
    ("deleted", "sent_op", "same", "held", "expected"),
    [
        (False, None, False, False, "add"),
        (False, "add", False, True, "modify"),
        (False, "add", True, True, None),
        (True, "modify", False, True, "delete"),
        (True, None, False, False, None),  # added then deleted before sending: nothing
        (False, "delete", False, True, "add"),  # deleted, then added again
        (False, "add", False, False, "add"),  # the target rejected it: it holds nothing
    ],
)
def test_collapse_table(
    deleted: bool, sent_op: str | None, same: bool, held: bool, expected: str | None
) -> None:
    assert decide(deleted, "h1", sent_op, "h1" if same else "h0", held) == expected


@BACKENDS
def test_city_forwards_to_the_province_and_keeps_its_verdicts(
    tmp_path: Path, pki: Pki, province: tuple[str, Store], database_url: str
) -> None:
    url, prov = province
    cfg, city = _city(tmp_path, pki, url, database_url, max_records=60)
    try:
        night = Generator(seed=5).batch(2)
        _ingest(city, night)
        first = forward(cfg, city, "province")
        accepted = sum(1 for v in _current(city).values() if not v[1])
        assert first.status == "done" and first.ops == {"add": accepted}
        assert len(first.packages) == -(-accepted // 60)  # packages of at most 60 records
        assert all(p.status == "delivered" for p in first.packages)
        # the province holds what the city holds, and every verdict came back down
        assert _current(prov) == _current(city)
        with city.read() as conn:
            outcomes = dict(
                conn.execute(select(ITEM.c.outcome, func.count()).group_by(ITEM.c.outcome)).all()
            )
        assert outcomes == {"accepted": accepted}

        # nothing new: nothing sent
        again = forward(cfg, city, "province")
        assert (again.status, again.runs, again.packages) == ("done", 0, [])

        # a modify, an add then a delete of a record never sent, an add then a modify
        proj = next(e for e in night if e["dataset"] == "PROJECT")
        one, two = [e for e in Generator(seed=6).batch(2) if e["dataset"] == "PROJECT"]
        _ingest(city, [_later(proj, "modify", PROJECT_NAME="金山医院门诊楼扩建工程")])
        _ingest(city, [one, _later(one, "delete")])
        _ingest(city, [two, _later(two, "modify", PROJECT_NAME="北港污水管网改造工程")])
        third = forward(cfg, city, "province")
        assert third.runs == 3 and third.ops == {"modify": 1, "add": 1}, third.ops
        with city.read() as conn:
            sent = {
                r.business_key: r.op
                for r in conn.execute(
                    select(ITEM.c.business_key, ITEM.c.op).where(
                        ITEM.c.package_id == third.packages[0].package_id
                    )
                )
            }
        assert sorted(sent.values()) == ["add", "modify"]
        live = {k: v for k, v in _current(city).items() if not v[1]}
        assert _current(prov) == live  # the one added and deleted never reached it
        # the city numbered its packages to the province 1, 2, 3 … in their signed
        # manifests; the province kept the numbers, so a gap would show a lost package
        with prov.read() as conn:
            numbers = sorted(n for (n,) in conn.execute(select(Package.sequence)))
        assert numbers == list(range(1, len(first.packages) + len(third.packages) + 1))
    finally:
        city.dispose()


@BACKENDS
def test_breaker_opens_in_the_store_and_dead_packages_go_first_when_it_is_back(
    tmp_path: Path, pki: Pki, province: tuple[str, Store], database_url: str
) -> None:
    url, prov = province
    down = f"http://127.0.0.1:{free_port()}"
    cfg, city = _city(tmp_path, pki, down, database_url, breaker_failures=2, breaker_minutes=5)
    try:
        _ingest(city, Generator(seed=7).batch(1))
        for _ in range(2):
            p = forward(cfg, city, "province")
            assert p.status == "stopped" and p.packages[-1].status == "dead"
        # open: no push at all now, and every process sees it (a new store object)
        other = open_store(cfg)
        st = target_state.state(other, "province")
        assert st.failures == 2 and st.open_until is not None
        assert forward(cfg, other, "province").status == "open"
        other.dispose()
        with city.read() as conn:
            dead = conn.execute(select(D.c.package_id).where(D.c.status == "dead")).scalars()
            assert len(list(dead)) == 1  # the same package, tried twice
        # the province is back and the breaker's time is up: the dead package goes first
        city.dispose()
        back, city = _city(tmp_path, pki, url, database_url)
        with city.write() as conn:
            conn.execute(target_state.T.update().values(open_until=None))
        p = forward(back, city, "province")
        assert p.status == "done" and [s.status for s in p.packages] == ["delivered"]
        assert _current(prov) == _current(city)
        assert target_state.state(city, "province").failures == 0
    finally:
        city.dispose()


def test_a_receipt_for_another_package_does_not_deliver(
    tmp_path: Path, pki: Pki, province: tuple[str, Store]
) -> None:
    """A peer that answers 200 with a receipt it signed for an earlier package: the package
    is not delivered (it may never have been stored there) but dead, sent again next pass."""
    from fastapi import FastAPI, Response

    url, prov = province
    cfg, city = _city(tmp_path, pki, url)
    try:
        _ingest(city, Generator(seed=7).batch(1))
        first = forward(cfg, city, "province")
        assert [s.status for s in first.packages] == ["delivered"]
        with city.read() as conn:
            old = conn.execute(select(D.c.receipt)).scalar_one()
        liar = FastAPI()

        @liar.post("/v1/packages")
        def answer() -> Response:  # a genuine receipt of the province, for the first package
            return Response(old, media_type="application/vnd.hub-receipt+zip")

        _ingest(city, Generator(seed=8).batch(1))
        with serve(liar) as lying:
            wrong, _ = _city(tmp_path, pki, lying)
            p = forward(wrong, city, "province")
        assert p.status == "stopped" and [s.status for s in p.packages] == ["dead"]
        with city.read() as conn:
            dead = conn.execute(select(D).where(D.c.status == "dead")).one()
        assert "is not its receipt (receipt.package" in dead.last_error, dead.last_error
        # the real province: the dead package goes first, and now it is there
        p = forward(cfg, city, "province")
        assert p.status == "done" and p.packages[0].package_id == dead.package_id
        assert p.packages[0].status == "delivered"
        assert _current(prov) == _current(city)
    finally:
        city.dispose()


def test_one_process_at_a_time_per_target(tmp_path: Path, pki: Pki) -> None:
    cfg, city = _city(tmp_path, pki, "http://127.0.0.1:9")
    try:
        assert target_state.claim(city, "province", "other-process", datetime.now(UTC))
        assert forward(cfg, city, "province").status == "busy"
        target_state.release(city, "province", "other-process")
        with city.read() as conn:
            assert conn.execute(select(func.count()).select_from(VER)).scalar() == 0
        assert forward(cfg, city, "province").status == "done"  # nothing to send
    finally:
        city.dispose()


def test_forward_from_the_command_line(
    tmp_path: Path, pki: Pki, province: tuple[str, Store]
) -> None:
    url, prov = province
    d = pki.dir
    toml = tmp_path / "city.toml"
    toml.write_text(
        f"""
[store]
data_dir = "city"
[signing]
key = "{d / "node.key"}"
cert = "{d / "node.pem"}"
[trust]
anchors = ["{d / "ca.pem"}"]
crls = ["{d / "ca.crl"}"]
[forward.province]
receiver = "{RECEIVER}"
datasets = ["PROJECT", "TENDER_PROJECT"]
options = {{ url = "{url}", backoff_seconds = 0.01 }}
""",
        "utf-8",
    )
    night = tmp_path / "night.jsonl"
    night.write_bytes(jsonl_bytes(Generator(seed=8).batch(2)))
    runner = CliRunner()
    cfg = ["--config", str(toml)]
    assert runner.invoke(cli, ["ingest", str(night), "--source", "county-a", *cfg]).exit_code == 0
    r = runner.invoke(cli, ["forward", "run", *cfg])
    assert r.exit_code == 0, r.output
    said = " ".join(r.output.split())  # as rich wraps it
    assert "province: done, 1 run(s) looked at, add 4" in said  # 2 + 2: only those sets
    assert "delivered, 4 record(s); the target: accepted 4" in said
    status = runner.invoke(cli, ["forward", "--format", "json", *cfg])
    got = orjson.loads(status.output)
    assert got[0]["records"] == {"accepted": 4} and got[0]["runs_waiting"] == 0
    assert got[0]["packages"] == {"delivered": 1} and got[0]["breaker"] == "closed"
    with prov.read() as conn:
        assert sorted(conn.execute(select(CUR.c.dataset).distinct()).scalars()) == [
            "PROJECT",
            "TENDER_PROJECT",
        ]
    wrong = runner.invoke(cli, ["forward", "run", "provnce", *cfg])
    assert wrong.exit_code == 2 and "did you mean 'province'" in wrong.output, wrong.output


def test_the_scheduler_forwards_within_seconds_of_an_accepted_record(
    tmp_path: Path, pki: Pki, province: tuple[str, Store]
) -> None:
    url, prov = province
    cfg, city = _city(tmp_path, pki, url, every="1s")
    sched = Scheduler(cfg, city)
    sched.start()
    try:
        _ingest(city, [e for e in Generator(seed=9).batch(1) if e["dataset"] == "PROJECT"])
        accepted_at = time.monotonic()
        while not _current(prov) and time.monotonic() - accepted_at < 30:
            time.sleep(0.1)
        assert _current(prov) == _current(city)  # it got there, in a few seconds
    finally:
        sched.stop()
        city.dispose()


def test_envelopes_are_what_orjson_writes(tmp_path: Path, pki: Pki) -> None:
    """The lines are put together around the stored content; they must be the very bytes
    `hub package build` writes for the same envelope (sorted keys, compact)."""
    _, city = _city(tmp_path, pki, "http://127.0.0.1:9")
    try:
        _ingest(city, Generator(seed=10).batch(1))
        with city.read() as conn:
            runs = outbox.pending_runs(conn, "province")
            todo = outbox.changes(conn, "province", runs, ())
            lines = list(outbox.envelopes(conn, todo))
            contents = dict(conn.execute(select(VER.c.id, VER.c.content)).all())
        assert lines and len(lines) == len(todo)
        for c, line in lines:
            env = {"dataset": c.dataset, "op": c.op, "record": orjson.loads(contents[c.version_id])}
            got = orjson.loads(line)
            if "key" in got:
                env["key"] = got["key"]
            assert line == orjson.dumps(env, option=orjson.OPT_SORT_KEYS)
    finally:
        city.dispose()


def test_what_became_of_my_record(tmp_path: Path, pki: Pki, province: tuple[str, Store]) -> None:
    """The city answers a county's "what became of my record?": accepted here as version n,
    sent in package P (line), and the province's verdict, with the time the hop took; a
    county sees only what its own versions became."""
    url, _ = province
    cfg, city = _city(tmp_path, pki, url)
    try:
        proj = next(e for e in Generator(seed=11).batch(1) if e["dataset"] == "PROJECT")
        _ingest(city, [proj])
        p = forward(cfg, city, "province")
        key = proj["record"]["PROJECT_CODE"]
        with city.read() as conn:
            rec = show(conn, load_dictionary(), "PROJECT", key)
        (up,) = rec["upstream"]
        assert (up["target"], up["op"], up["version"], up["outcome"]) == (
            "province",
            "add",
            1,
            "accepted",
        )
        assert up["package_id"] == p.packages[0].package_id and up["line"] == 1
        assert up["upstream_version"] == 1 and up["newest_here"] and up["seconds"] >= 0
        assert as_seen_by(rec, {"county-a"})["upstream"] == [up]  # type: ignore[index]
        assert as_seen_by(rec, {"county-b"}) is None  # it sent none of it
        # a newer version arrives and is not forwarded yet: the chain says so
        _ingest(city, [_later(proj, "modify", PROJECT_NAME="金山医院门诊楼二期工程")])
        with city.read() as conn:
            (up,) = show(conn, load_dictionary(), "PROJECT", key)["upstream"]
        assert up["version"] == 1 and not up["newest_here"]
    finally:
        city.dispose()


def test_reset_sends_everything_again_and_the_target_answers_duplicates(
    tmp_path: Path, pki: Pki, province: tuple[str, Store]
) -> None:
    url, _ = province
    cfg, city = _city(tmp_path, pki, url)
    try:
        _ingest(city, Generator(seed=13).batch(1))
        first = forward(cfg, city, "province")
        sent = first.ops["add"]
        assert forward(cfg, city, "province").packages == []  # nothing new
        done = target_state.forget(city, "province", "test")
        assert done == {"records_forgotten": sent, "runs_forgotten": 1}
        again = forward(cfg, city, "province")
        assert again.ops == {"add": sent}
        assert again.packages[0].verdicts == {"duplicate": sent}  # it had them all
        with city.read() as conn:
            assert (
                conn.execute(
                    select(func.count())
                    .select_from(table(AuditEntry))
                    .where(table(AuditEntry).c.action == "forward.reset")
                ).scalar()
                == 1
            )
    finally:
        city.dispose()


def test_held_verdicts_are_asked_for_again_until_the_target_places_them(
    tmp_path: Path, pki: Pki, province: tuple[str, Store]
) -> None:
    """The province holds sections whose tender projects it has not got; when they arrive
    (here from another sender) it places them, and the city's next pass asks for the
    package's receipt as it stands now (GET /v1/packages/{id}/status) and keeps it."""
    url, prov = province
    cfg, city = _city(tmp_path, pki, url, datasets=("SECTION",))
    try:
        night = Generator(seed=8).batch(2)
        _ingest(city, night)
        first = forward(cfg, city, "province")
        sections = sum(1 for e in night if e["dataset"] == "SECTION")
        assert [p.verdicts for p in first.packages] == [{"held": sections}]
        assert first.refreshed == {"held": sections}  # asked at once: still held
        parents = [e for e in night if e["dataset"] in ("PROJECT", "TENDER_PROJECT")]
        ingest_stream(prov, io.BytesIO(jsonl_bytes(parents)), "county-b", "parents.jsonl")
        again = forward(cfg, city, "province")
        assert again.packages == [] and again.refreshed == {"accepted": sections}
        with city.read() as conn:
            rows = conn.execute(select(ITEM.c.outcome, ITEM.c.upstream_version)).all()
        assert rows and all(r.outcome == "accepted" and r.upstream_version == 1 for r in rows)
        assert forward(cfg, city, "province").refreshed == {}  # nothing held: nothing asked
    finally:
        city.dispose()
