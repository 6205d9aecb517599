"""INSERT … ON CONFLICT for the two dialects the store runs on (both spell it the same)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(conn: Connection, table: Table) -> Any:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
    where: Any = None,
) -> None:
    """Insert rows; on a key clash update ``update`` columns (None: all non-key columns),
    optionally only ``where`` a condition over ``table`` and ``excluded`` holds."""
    if not rows:
        return
    stmt = _insert(conn, table)
    cols = update if update is not None else [c for c in rows[0] if c not in keys]
    cond: ColumnElement[bool] | None = where(table, stmt.excluded) if where else None
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={c: stmt.excluded[c] for c in cols},
        where=cond,
    )
    conn.execute(stmt, list(rows))


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), list(rows))


def analyze_when_unknown(conn: Connection, table: Table, written: int) -> None:
    """PostgreSQL only: ANALYZE ``table`` while its statistics know fewer rows than were just
    written.  A table never analyzed looks empty to the planner, which then answers a
    lookup by key with a scan of the whole table; autovacuum catches up only a minute or
    more later, and by then a bulk run has made thousands of such lookups (bench/cascade.py:
    the verdicts of a night's packages went from 0.4 s to 7.8 s a package)."""
    if conn.dialect.name != "postgresql":
        return
    known = conn.exec_driver_sql(
        "SELECT reltuples FROM pg_class WHERE oid = %(t)s::regclass", {"t": table.name}
    ).scalar()
    if known is None or known < written:
        conn.exec_driver_sql(f'ANALYZE "{table.name}"')
