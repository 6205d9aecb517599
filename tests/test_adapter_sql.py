"""The sql adapter against the local MariaDB, seeded with 西山县's legacy schema."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pymysql
import pytest
from sqlalchemy import func, select

from hub.config import NodeConfig, SourceSection
from hub.errors import RetryableError
from hub.mapping import load_mapping
from hub.mapping.records import iter_mapped
from hub.sources import open_adapter
from hub.store.engine import Store
from hub.store.models import RecordVersion, SyncRun
from hub.sync import sync_source
from hub.validation.validator import Validator
from tests.adapter_contract import Peer, PullContract
from tests.legacy import GOLDEN, XISHAN_DDL, golden_check, transaction_records, xishan_rows

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "mappings" / "xishan-mariadb.toml"
MARIADB = os.environ.get("HUB_TEST_MARIADB", "127.0.0.1:3306")
HOST, PORT = MARIADB.split(":")
TABLES = [
    {"table": "t_xiangmu", "updated": "gxsj", "key": "id"},
    {"table": "t_zbxm", "updated": "gxsj", "key": "id"},
    {"table": "t_biaoduan", "updated": "gxsj", "key": "id"},
]
PARTS = [["t_xiangmu", "t_zbxm"], ["t_biaoduan"]]


def _connect(db: str | None = None) -> pymysql.Connection[Any]:
    try:
        return pymysql.connect(
            host=HOST,
            port=int(PORT),
            user="root",
            password="",
            database=db,
            charset="utf8mb4",
            autocommit=True,
        )
    except pymysql.err.OperationalError as exc:
        pytest.fail(f"MariaDB at {MARIADB} is not reachable ({exc}); run scripts/services.sh")


@pytest.fixture
def county_db() -> Iterator[str]:
    name = f"hubtest_{uuid.uuid4().hex[:10]}"
    with _connect() as c, c.cursor() as cur:
        cur.execute(f"CREATE DATABASE {name} CHARACTER SET gbk")
    with _connect(name) as c, c.cursor() as cur:
        for ddl in XISHAN_DDL:
            cur.execute(ddl)
    yield name
    with _connect() as c, c.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {name}")


ROWS = xishan_rows(transaction_records())


def insert(db: str, table: str, rows: list[dict[str, Any]]) -> None:
    cols = list(rows[0])
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
    with _connect(db) as c, c.cursor() as cur:
        cur.executemany(sql, [[r[k] for k in cols] for r in rows])


class SqlPeer(Peer):
    adapter = "sql"
    mapping = MAPPING

    @pytest.fixture(autouse=True)
    def _db(self, county_db: str) -> None:
        self.db = county_db

    def source_options(self, peer_dir: Path) -> dict[str, Any]:
        return {
            "url": f"mysql+pymysql://root@{MARIADB}/{getattr(self, 'db', 'x')}",
            "tables": TABLES,
            "page_rows": 2,
            "retry_wait_seconds": 0.05,
        }

    def put(self, part: int) -> int:
        n = 0
        for table in PARTS[part]:
            insert(self.db, table, ROWS[table])
            n += len(ROWS[table])
        return n


class TestSqlContract(SqlPeer, PullContract):
    """The adapter contract against the real peer."""


class TestSqlBehaviour(SqlPeer):
    def test_the_pulled_rows_are_the_golden_legacy_input_and_map_to_the_golden_records(
        self, node: NodeConfig
    ) -> None:
        self.put(0)
        self.put(1)
        pulled: dict[str, list[dict[str, Any]]] = {}
        with open_adapter(node, "peer") as a:
            for b in a.pull(None):
                pulled.setdefault(b.name, []).extend(
                    json.loads(line) for line in b.read().splitlines()
                )
        for table, rows in pulled.items():
            text = (GOLDEN / "xishan" / f"{table}.jsonl").read_bytes()
            golden = [json.loads(x) for x in text.splitlines()]
            assert sorted(rows, key=lambda r: r["id"]) == golden
        # the golden input through the shipped mapping gives the golden records, no issues
        mapping, v = load_mapping(MAPPING), Validator()
        lines = []
        for table in ("t_xiangmu", "t_zbxm", "t_biaoduan"):
            path = GOLDEN / "xishan" / f"{table}.jsonl"
            with path.open("rb") as fh:
                for r in iter_mapped(mapping, v, fh, path.name, table):
                    assert r.issues == [], [i.message for i in r.issues]
                    env = {"dataset": r.raw.dataset, "op": r.raw.op, "key": r.raw.key}
                    lines.append(json.dumps({**env, "record": r.raw.fields}, ensure_ascii=False))
        expected = GOLDEN / "xishan" / "expected.jsonl"
        golden_check(expected, "\n".join(lines) + "\n")

    def test_rows_sharing_an_update_time_are_neither_skipped_nor_read_twice(
        self, node: NodeConfig, hub_store: Store
    ) -> None:
        same = ROWS["t_biaoduan"][0]["gxsj"]
        rows = [dict(r, gxsj=same) for r in ROWS["t_biaoduan"]]  # six rows, one update time
        insert(self.db, "t_biaoduan", rows)
        seen: list[int] = []
        with open_adapter(node, "peer") as a:  # pages of 2 rows: ties across page boundaries
            for b in a.pull(None):
                seen += [json.loads(x)["id"] for x in b.read().splitlines()]
        assert sorted(seen) == list(range(1, 7)) and len(seen) == 6

    def test_a_back_dated_row_is_seen_within_lookback_seconds(
        self, node: NodeConfig, hub_store: Store
    ) -> None:
        rows = ROWS["t_xiangmu"]
        insert(self.db, "t_xiangmu", rows)
        newest = max(r["gxsj"] for r in rows)
        with open_adapter(node, "peer") as a:
            cursor = [b.cursor for b in a.pull(None)][-1]
        # a clerk enters a correction dated half an hour before the newest row already read
        late = dict(rows[0], xmbh="E4513002403010099", gxsj=newest - timedelta(minutes=30))
        insert(self.db, "t_xiangmu", [late])

        def pulled(lookback: float) -> list[str]:
            src = node.sources["peer"]
            opts = {**src.options, "lookback_seconds": lookback}
            cfg = node.model_copy(
                update={"sources": {"peer": src.model_copy(update={"options": opts})}}
            )
            with open_adapter(cfg, "peer") as a:
                return [
                    json.loads(x)["xmbh"]
                    for b in a.pull(cursor)
                    if b.name == "t_xiangmu"
                    for x in b.read().splitlines()
                ]

        assert pulled(0) == []  # behind the cursor: not seen
        seen = pulled(3600)  # an hour back: seen, with the rows of that hour again
        assert "E4513002403010099" in seen and len(seen) == len(set(seen))
        assert set(seen) <= {r["xmbh"] for r in rows} | {"E4513002403010099"}

    def test_the_county_reads_each_rows_verdict_in_its_own_receipt_table(
        self, node: NodeConfig, hub_store: Store
    ) -> None:
        with _connect(self.db) as c, c.cursor() as cur:
            cur.execute(
                "CREATE TABLE hub_receipt (batch VARCHAR(500), record INT, dataset VARCHAR(64),"
                " business_key VARCHAR(400), outcome VARCHAR(16), version INT, rule VARCHAR(64),"
                " field VARCHAR(64), value TEXT, message TEXT, received_at DATETIME)"
            )
        rows = [dict(r) for r in ROWS["t_xiangmu"]]
        rows[1]["qhdm"] = "999999"  # no such region: the hub rejects that row
        insert(self.db, "t_xiangmu", rows)
        src = node.sources["peer"]
        opts = {**src.options, "receipt_table": "hub_receipt", "tables": TABLES[:1]}
        cfg = node.model_copy(
            update={"sources": {"peer": src.model_copy(update={"options": opts})}}
        )
        report = sync_source(cfg, hub_store, "peer")
        assert all(b.as_dict().get("verdicts_left", "").endswith("rows)") for b in report.batches)
        with _connect(self.db) as c, c.cursor() as cur:
            cur.execute("SELECT outcome, business_key, rule, field, value FROM hub_receipt")
            got = cur.fetchall()
        assert len(got) == report.counts.records_in == len(rows)
        (bad,) = [g for g in got if g[0] == "rejected"]
        assert bad[1] == rows[1]["xmbh"] and bad[3] == "REGION_CODE" and bad[4] == "999999"
        assert sorted(g[0] for g in got) == ["accepted", "accepted", "rejected"]

    def test_a_connection_killed_mid_read_is_retried_without_skipping_or_repeating_rows(
        self, node: NodeConfig, hub_store: Store
    ) -> None:
        self.put(0)
        self.put(1)
        total = sum(len(v) for v in ROWS.values())
        killed: list[int] = []

        def kill_the_adapters_connection(_batch: Any) -> None:
            if len(killed) >= 2:
                return
            with _connect() as c, c.cursor() as cur:
                cur.execute(
                    "SELECT id FROM information_schema.processlist WHERE db = %s "
                    "AND id <> CONNECTION_ID()",
                    (self.db,),
                )
                for (pid,) in cur.fetchall():
                    cur.execute(f"KILL CONNECTION {int(pid)}")
                    killed.append(pid)

        report = sync_source(node, hub_store, "peer", on_batch=kill_the_adapters_connection)
        assert len(killed) >= 2, "the test did not manage to kill the connection"
        assert report.ok, report.as_dict()
        assert report.counts.records_in == total and report.counts.duplicate == 0
        with hub_store.read() as conn:
            assert (
                conn.execute(select(func.count()).select_from(RecordVersion)).scalar_one() == total
            )

    def test_an_unreachable_database_is_a_retryable_fault_that_moves_nothing(
        self, node: NodeConfig, hub_store: Store
    ) -> None:
        opts = {
            **node.sources["peer"].options,
            "url": "mysql+pymysql://root@127.0.0.1:9/nowhere",  # nothing listens on port 9
            "retries": 1,
            "connect_timeout": 2,
        }
        cfg = node.model_copy(
            update={
                "sources": {
                    "peer": SourceSection(adapter="sql", mapping=str(MAPPING), options=opts)
                }
            }
        )
        report = sync_source(cfg, hub_store, "peer")
        assert not report.ok and "failed 2 times" in (report.error or "")
        assert report.cursor_after is None
        with hub_store.read() as conn:
            assert conn.execute(select(func.count()).select_from(SyncRun)).scalar_one() == 0
        with open_adapter(cfg, "peer") as a, pytest.raises(RetryableError):
            list(a.pull(None))

    def test_a_password_in_the_url_is_refused_when_the_configuration_loads(
        self, tmp_path: Path
    ) -> None:
        from hub.config import load_config
        from hub.errors import ConfigError
        from tests.adapter_contract import write_config

        opts = {**self.source_options(tmp_path), "url": "mysql+pymysql://hub:s3cret@db/xm"}
        path = write_config(tmp_path / "n.toml", "sql", opts, MAPPING, tmp_path / "d")
        with pytest.raises(ConfigError) as exc:
            load_config(path)
        (problem,) = exc.value.problems
        assert "[sources.peer] options.url" in problem and "$env:/$file:" in problem
