"""WHERE (data set, key) IN (...) in a form both databases answer from their indexes.

SQLite does not use a composite index for a row-value ``IN`` list (it scans the table, so
every chunk would cost more as the store grows); ``ds = ? AND key IN (...)`` per data set,
joined with OR, is searched through the index on SQLite (MULTI-INDEX OR) and on PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_


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
    return or_(*(and_(dataset_col == ds, key_col.in_(ks)) for ds, ks in sorted(groups.items())))


IN_LIST = 500  # values per IN (...) list: far below SQLite's and PostgreSQL's limits


def parts(xs: list[Any], n: int = IN_LIST) -> list[list[Any]]:
    """Split a list of keys for IN (...) lists of bounded length."""
    return [xs[i : i + n] for i in range(0, len(xs), n)]
