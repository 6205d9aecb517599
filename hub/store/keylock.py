"""Records locked by key for one writing transaction, so that hub processes ingesting into one
PostgreSQL at the same time never race on a key.

Two transactions that both find no current record for a key would both insert one (the
second fails on the primary key), and two that both read version n would both write n + 1.
Before it reads the current state of a chunk's keys, a transaction takes a transaction-level
advisory lock per key (``pg_advisory_xact_lock``, released at commit or rollback, so a
pooled connection never carries one to its next user), all at once and in one order, so
two writers with overlapping keys queue instead of deadlocking.  SQLite needs none: its
writers take the database's write lock first (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import Connection


def _lock_id(dataset: str, key: str) -> int:
    h = hashlib.blake2b(f"{dataset}\x1f{key}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big", signed=True)


def lock_keys(conn: Connection, keys: Iterable[tuple[str, str]]) -> None:
    if conn.dialect.name != "postgresql":
        return
    ids = sorted({_lock_id(ds, k) for ds, k in keys})
    if ids:  # unnest yields the sorted array in order: every writer locks in one order
        conn.exec_driver_sql(
            "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%(ids)s::bigint[]) AS k",
            {"ids": ids},
        )
