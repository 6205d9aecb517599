"""Lists say how long they are: counted up to 10,000 rows, estimated beyond (the planner's
figure on PostgreSQL, without scanning), so a page stays cheap on a store of any size."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, text

from hub.query import fates
from hub.store.engine import Store
from hub.store.models import Quarantine, SyncRun
from tests.conftest import BACKENDS


def _quarantine(store: Store, n: int, source: str) -> None:
    now = datetime.now(UTC)
    with store.write() as conn:
        run = conn.execute(
            insert(SyncRun).values(source=source, origin="test", status="done", started_at=now)
        ).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(
            insert(Quarantine),
            [
                {"run_id": run, "source": source, "record_index": i, "dataset": "SECTION",
                 "rule": "mapping.value", "message": "bad date", "raw_record": "{}",
                 "raw_format": "row", "status": "open", "created_at": now}
                for i in range(1, n + 1)
            ],
        )  # fmt: skip


@BACKENDS
def test_short_lists_are_counted_and_long_ones_estimated(store: Store) -> None:
    _quarantine(store, 37, "county-a")
    _quarantine(store, fates.EXACT_UP_TO + 800, "county-b")
    if store.dialect == "postgresql":
        with store.write() as conn:
            conn.execute(text("ANALYZE quarantine"))
    with store.read() as conn:
        short = fates.quarantine(conn, fates.Window(source="county-a", limit=10, count=True))
        long = fates.quarantine(conn, fates.Window(source="county-b", limit=10, count=True))
        plain = fates.quarantine(conn, fates.Window(source="county-a", limit=10))
    assert (short.total, short.total_exact, len(short.rows)) == (37, True, 10)
    assert long.total_exact is False and long.total is not None
    assert long.total > fates.EXACT_UP_TO  # a lower bound on SQLite, the planner's on PG
    if store.dialect == "postgresql":
        assert abs(long.total - (fates.EXACT_UP_TO + 800)) < 2000
    assert plain.total is None  # not asked: not counted (the CLI's pages)
