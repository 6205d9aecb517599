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
