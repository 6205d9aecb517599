"""A hash-chained audit log: each entry's hash covers the previous hash and the entry.

``append`` runs inside the caller's writing transaction (on PostgreSQL it first takes a
transaction-scoped advisory lock, so concurrent writers cannot fork the chain; SQLite
writers are already serialised by BEGIN IMMEDIATE).  ``verify`` recomputes the chain.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, select, text

from hub.store.models import AuditEntry, table

GENESIS = "0" * 64
_LOCK_ID = 0x6875622D61756474  # "hub-audt"


def _digest(prev: str, at: str, actor: str, action: str, subject: str, detail: str) -> str:
    body = orjson.dumps([prev, at, actor, action, subject, detail])
    return hashlib.sha256(body).hexdigest()


def _at(ts: datetime) -> str:
    """UTC, microseconds; SQLite hands back naive datetimes, which are UTC here."""
    if ts.tzinfo is not None:
        ts = ts.astimezone(UTC)
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def append(conn: Connection, actor: str, action: str, subject: str, detail: dict[str, Any]) -> str:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
    t = table(AuditEntry)
    prev = conn.execute(select(t.c.hash).order_by(t.c.id.desc()).limit(1)).scalar()
    now = datetime.now(UTC)
    body = orjson.dumps(detail, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    h = _digest(prev or GENESIS, _at(now), actor, action, subject, body)
    conn.execute(
        t.insert(),
        {
            "at": now,
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": body,
            "prev_hash": prev or GENESIS,
            "hash": h,
        },
    )
    return h


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_at: int | None  # id of the first entry whose hash or link does not hold
    reason: str = ""


def verify(conn: Connection) -> ChainReport:
    t = table(AuditEntry)
    prev, n = GENESIS, 0
    for row in conn.execute(select(t).order_by(t.c.id)):
        n += 1
        if row.prev_hash != prev:
            return ChainReport(n, row.id, "prev_hash does not match the previous entry")
        want = _digest(prev, _at(row.at), row.actor, row.action, row.subject, row.detail)
        if want != row.hash:
            return ChainReport(n, row.id, "the entry's content does not match its hash")
        prev = row.hash
    return ChainReport(n, None)
