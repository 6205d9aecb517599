"""A lease on a row: one process at a time does a named piece of work (a schedule's sync, a
target's forwarding), across processes and on both databases.

The row has ``name``, ``claimed_by`` and ``claimed_until``.  Taking it is one UPDATE that
matches only when nobody holds a live lease (or ``who`` holds it: a renewal), so two
processes can never both get it; a process that dies leaves a lease that runs out.  The
database's rows, not session advisory locks: a pooled connection would keep such a lock
after its user is gone, and a recycled one would drop it silently.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Table, or_, update

from hub.store.engine import Store


def holder_id() -> str:
    """Who holds a lease: host, process, and one holder within it."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def take(store: Store, table: Table, name: str, who: str, now: datetime, lease: timedelta) -> bool:
    with store.write() as conn:
        c = table.c
        got = conn.execute(
            update(table)
            .where(
                c.name == name,
                or_(c.claimed_until.is_(None), c.claimed_until < now, c.claimed_by == who),
            )
            .values(claimed_by=who, claimed_until=now + lease)
        )
        return bool(got.rowcount)


def give_back(store: Store, table: Table, name: str, who: str) -> None:
    with store.write() as conn:
        conn.execute(
            update(table)
            .where(table.c.name == name, table.c.claimed_by == who)
            .values(claimed_by=None, claimed_until=None)
        )
