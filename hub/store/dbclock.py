"""The database's clock in SQL: leases judged by one clock, whatever the processes' own say."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, literal


def db_now(conn: Connection, plus_seconds: float = 0) -> Any:
    """The database's current time (+ ``plus_seconds``), as an SQL expression."""
    if conn.dialect.name == "sqlite":  # UTC, in the text form SQLAlchemy stores
        return func.strftime("%Y-%m-%d %H:%M:%f", "now", f"+{plus_seconds:.3f} seconds")
    return func.now() + func.make_interval(0, 0, 0, 0, 0, 0, literal(plus_seconds))
