"""The ingest write path's statements: SQL text built once per shape, rows as tuples, run
through the driver's own ``executemany`` (and ``COPY`` on PostgreSQL).

Profiling ``bench/ingest.py`` showed SQLAlchemy Core's per-row parameter processing costing
more than the database work itself on the hot path, so these few statements bypass it.  They
run on the caller's SQLAlchemy connection, inside its transaction; everything else in the hub
uses Core as usual.  Only table and column names from ``hub.store.models`` are interpolated
into SQL here, never data.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, DateTime

from hub.store.keyfilter import by_dataset, parts


class Bulk:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.mark = "%s" if self.pg else "?"
        dt = DateTime(timezone=True)
        self._ts = None if self.pg else dt.dialect_impl(conn.dialect).bind_processor(conn.dialect)

    def when(self, dt: datetime) -> Any:
        """A timestamp as this driver stores it in a DateTime column (convert once, reuse)."""
        return self._ts(dt) if self._ts else dt

    def insert(
        self,
        table: str,
        cols: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        ignore: bool = False,
        copy: bool = False,
    ) -> None:
        """Plain INSERT (``ignore``: skip rows whose key exists).  ``copy`` on PostgreSQL
        streams the rows with COPY, for rows known to be new."""
        if not rows:
            return
        if copy and self.pg and not ignore:
            raw = self.conn.connection.driver_connection
            assert raw is not None
            with raw.cursor() as cur, cur.copy(_copy_sql(table, tuple(cols))) as cp:
                for r in rows:
                    cp.write_row(r)
            return
        self._many(_insert_sql(table, tuple(cols), self.mark, ignore), rows)

    def upsert(
        self,
        table: str,
        cols: Sequence[str],
        rows: Sequence[Sequence[Any]],
        keys: Sequence[str],
        *,
        where: str | None = None,
    ) -> None:
        """INSERT … ON CONFLICT (keys) DO UPDATE SET every other column [WHERE where]."""
        if rows:
            self._many(_upsert_sql(table, tuple(cols), self.mark, tuple(keys), where), rows)

    def update(
        self, table: str, set_cols: Sequence[str], key_cols: Sequence[str], rows: Sequence[Any]
    ) -> None:
        """UPDATE by key: each row is (*set values, *key values)."""
        if rows:
            self._many(_update_sql(table, tuple(set_cols), tuple(key_cols), self.mark), rows)

    def delete(self, table: str, key_cols: Sequence[str], rows: Sequence[Any]) -> None:
        """DELETE by key: each row is the key values."""
        if rows:
            cond = " AND ".join(f"{c} = {self.mark}" for c in key_cols)
            self._many(f"DELETE FROM {table} WHERE {cond}", rows)

    def select_keys(
        self,
        cols: str,
        frm: str,
        keys: Iterable[tuple[str, str]],
        *,
        ds_col: str = "dataset",
        key_col: str = "business_key",
        where: str = "",
    ) -> list[Any]:
        """Rows of ``SELECT cols FROM frm WHERE [where AND] (ds, key) in keys``.  SQLite gets
        the ``ds = ? AND key IN (…)`` OR-form it answers from its indexes; PostgreSQL two array
        parameters (one statement text, so psycopg converts and the server plans it once)."""
        cond_where = where + " AND " if where else ""
        if self.pg:
            pairs = sorted(set(keys))
            if not pairs:
                return []
            sql = (
                f"SELECT {cols} FROM {frm} WHERE {cond_where}({ds_col}, {key_col}) IN "
                "(SELECT * FROM unnest(%s::text[], %s::text[]))"
            )
            arrays = ([p[0] for p in pairs], [p[1] for p in pairs])
            return list(self.conn.exec_driver_sql(sql, arrays).all())
        out: list[Any] = []
        for part in parts(sorted(set(keys))):
            ors, params = [], []
            for ds, ks in by_dataset(part).items():
                ors.append(
                    f"({ds_col} = {self.mark} AND {key_col} IN ({_marks(self.mark, len(ks))}))"
                )
                params += [ds, *ks]
            cond = " OR ".join(ors)
            sql = f"SELECT {cols} FROM {frm} WHERE {cond_where}({cond})"
            out += self.conn.exec_driver_sql(sql, tuple(params)).all()
        return out

    def exists(self, frm: str, where: str) -> bool:
        """Whether any row of ``frm`` matches ``where`` (a fixed condition, no parameters)."""
        sql = f"SELECT 1 FROM {frm} WHERE {where} LIMIT 1"
        return self.conn.exec_driver_sql(sql).first() is not None

    def select_exact(
        self, cols: str, frm: str, key_cols: Sequence[str], keys: Iterable[tuple[Any, ...]]
    ) -> list[Any]:
        """Rows whose ``key_cols`` equal one of ``keys`` exactly: an OR of equalities, each an
        index probe on a unique index over ``key_cols`` in both databases."""
        one = "(" + " AND ".join(f"{c} = {self.mark}" for c in key_cols) + ")"
        out: list[Any] = []
        if self.pg:  # one array parameter per column, joined back into rows by unnest
            cols_sql = ", ".join(key_cols)
            arrays = ", ".join(["%s::text[]"] * len(key_cols))
            sql = f"SELECT {cols} FROM {frm} WHERE ({cols_sql}) IN (SELECT * FROM unnest({arrays}))"
            for part in parts(sorted(set(keys))):
                columns = tuple(list(col) for col in zip(*part, strict=True))
                out += self.conn.exec_driver_sql(sql, columns).all()
            return out
        for part in parts(sorted(set(keys)), 200):
            sql = f"SELECT {cols} FROM {frm} WHERE " + " OR ".join([one] * len(part))
            out += self.conn.exec_driver_sql(sql, tuple(v for k in part for v in k)).all()
        return out

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.conn.exec_driver_sql(sql, [tuple(r) for r in rows])


def _marks(mark: str, n: int) -> str:
    return ", ".join([mark] * n)


@lru_cache(maxsize=64)
def _insert_sql(table: str, cols: tuple[str, ...], mark: str, ignore: bool) -> str:
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({_marks(mark, len(cols))})"
    return sql + (" ON CONFLICT DO NOTHING" if ignore else "")


@lru_cache(maxsize=64)
def _upsert_sql(
    table: str, cols: tuple[str, ...], mark: str, keys: tuple[str, ...], where: str | None
) -> str:
    sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
    sql = (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({_marks(mark, len(cols))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
    )
    return sql + (f" WHERE {where}" if where else "")


@lru_cache(maxsize=64)
def _update_sql(table: str, set_cols: tuple[str, ...], key_cols: tuple[str, ...], mark: str) -> str:
    sets = ", ".join(f"{c} = {mark}" for c in set_cols)
    cond = " AND ".join(f"{c} = {mark}" for c in key_cols)
    return f"UPDATE {table} SET {sets} WHERE {cond}"


@lru_cache(maxsize=64)
def _copy_sql(table: str, cols: tuple[str, ...]) -> str:
    return f"COPY {table} ({', '.join(cols)}) FROM STDIN"
