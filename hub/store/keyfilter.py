"""WHERE (data set, key) IN (...) in a form both databases answer from their indexes.

SQLite does not use a composite index for a row-value ``IN`` list (it scans the table, so
every chunk would cost more as the store grows); ``ds = ? AND key IN (...)`` per data set,
joined with OR, is searched through the index on SQLite (MULTI-INDEX OR) and on PostgreSQL.

On PostgreSQL a list of values is one array parameter (``key = ANY(%s)``), not thousands of
placeholders: SQLAlchemy renders and psycopg splits every placeholder of an ``IN`` list on
each execution, which cost more than the query itself for 5,000 keys (bench/findings.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    ARRAY,
    Boolean,
    ColumnElement,
    Connection,
    and_,
    any_,
    bindparam,
    false,
    or_,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler


def by_dataset(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Keys grouped per data set, for ``ds = ? AND key IN (...)`` terms."""
    groups: dict[str, list[str]] = defaultdict(list)
    for ds, key in keys:
        groups[ds].append(key)
    return groups


def key_in(dataset_col: Any, key_col: Any, keys: Iterable[tuple[str, str]]) -> ColumnElement[bool]:
    groups = by_dataset(keys)
    if not groups:
        return false()
    return or_(
        *(and_(dataset_col == ds, values_in(key_col, ks)) for ds, ks in sorted(groups.items()))
    )


class _ValuesIn(ColumnElement[bool]):
    """``col IN (values)``; on PostgreSQL ``col = ANY(array)``."""

    type = Boolean()
    inherit_cache = False  # the values are the statement's: nothing to cache

    def __init__(self, col: Any, values: list[Any]) -> None:
        self.col, self.values = col, values


def values_in(col: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    return _ValuesIn(col, list(values))


@compiles(_ValuesIn)
def _in_list(el: _ValuesIn, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(el.col.in_(el.values), **kw)


@compiles(_ValuesIn, "postgresql")
def _any_array(el: _ValuesIn, compiler: SQLCompiler, **kw: Any) -> str:
    array = bindparam(None, el.values, type_=ARRAY(el.col.type))
    return compiler.process(el.col == any_(array), **kw)


def custom_plans(conn: Connection) -> None:
    """For the rest of this transaction, on PostgreSQL, plan each statement with its values.

    psycopg prepares a statement run five times, and PostgreSQL then may use one generic plan
    for it.  A generic plan cannot hash ``ANY($1)``: where the list is a filter, not an index
    condition, every row is compared with every value (a section's 2,815 codes against the
    link index took 0.33 s, not 14 ms).  Reads with long value lists call this first."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


IN_LIST = 500  # values per IN (...) list: far below SQLite's and PostgreSQL's limits


def parts(xs: list[Any], n: int = IN_LIST) -> list[list[Any]]:
    """Split a list of keys for IN (...) lists of bounded length."""
    return [xs[i : i + n] for i in range(0, len(xs), n)]
