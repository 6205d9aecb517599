"""Reserve primary keys before a bulk insert, so the insert needs no RETURNING.

PostgreSQL: ``nextval`` of the column's sequence, n times, in one query (safe with any
number of concurrent writers).  SQLite: ``max(id) + 1 …`` inside the writer's transaction,
which ``BEGIN IMMEDIATE`` has made the only writer.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, func, select, text


def reserve_ids(conn: Connection, table: Table, n: int) -> list[int]:
    if n <= 0:
        return []
    if conn.dialect.name == "postgresql":
        rows = conn.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence(:t, 'id')) "
                "FROM generate_series(1, :n) ORDER BY 1"
            ),
            {"t": table.name, "n": n},
        )
        return [int(r[0]) for r in rows]
    top = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return list(range(int(top) + 1, int(top) + 1 + n))
