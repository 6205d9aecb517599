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


def key_in(dataset_col: Any, key_col: Any, keys: Iterable[tuple[str, str]]) -> ColumnElement[bool]:
    groups: dict[str, list[str]] = defaultdict(list)
    for ds, key in keys:
        groups[ds].append(key)
    if not groups:
        return false()
    return or_(*(and_(dataset_col == ds, key_col.in_(ks)) for ds, ks in sorted(groups.items())))
