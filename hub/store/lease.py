"""A lease on a row: one process at a time does a named piece of work (a schedule's sync, a
target's forwarding), across processes and on both databases.

The row has ``name``, ``claimed_by`` and ``claimed_until``.  Taking it is one UPDATE that
matches only when nobody holds a live lease (or ``who`` holds it: a renewal), so two
processes can never both get it; a process that dies leaves a lease that runs out, or is
taken over at once by a process of the same machine that sees the holder's process is gone
(a SIGKILL, a crash: recovery does not wait out the lease).  The
database's rows, not session advisory locks: a pooled connection would keep such a lock
after its user is gone, and a recycled one would drop it silently.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Table, or_, select, update

from hub.store.engine import Store


@functools.cache
def _machine() -> str:
    """This kernel and process namespace: two containers with one host name differ here,
    so neither takes the other's lease for a process it cannot see.  Read once: neither
    changes while a process runs (a forked child shares both)."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        ns = os.stat("/proc/self/ns/pid").st_ino
    except OSError:  # not Linux: no takeover, leases run out
        return ""
    return hashlib.sha256(f"{boot}:{ns}".encode()).hexdigest()[:12]


def holder_id() -> str:
    """Who holds a lease: host, process, one holder within it, and the machine (kernel boot
    and process namespace) the process number means something on."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}@{_machine()}"


def gone(holder: str | None) -> bool:
    """True when ``holder`` is a process of this very machine that no longer runs.  A
    holder of another machine, of an older format, or whose number a new process took,
    counts as alive: its lease runs out instead."""
    if not holder or "@" not in holder:
        return False
    head, _, machine = holder.rpartition("@")
    parts = head.split(":")
    here = _machine()
    if not here or machine != here or len(parts) < 3 or not parts[-2].isdigit():
        return False
    try:
        os.kill(int(parts[-2]), 0)
    except ProcessLookupError:
        return True
    except OSError:  # it exists, another user's
        return False
    return False


def take(store: Store, table: Table, name: str, who: str, now: datetime, lease: timedelta) -> bool:
    c = table.c
    with store.write() as conn:
        got = conn.execute(
            update(table)
            .where(
                c.name == name,
                or_(c.claimed_until.is_(None), c.claimed_until < now, c.claimed_by == who),
            )
            .values(claimed_by=who, claimed_until=now + lease)
        )
        if got.rowcount:
            return True
        holder = conn.execute(select(c.claimed_by).where(c.name == name)).scalar()
        if not gone(holder):
            return False
        took = conn.execute(  # only if the dead holder still has it: one taker wins
            update(table)
            .where(c.name == name, c.claimed_by == holder)
            .values(claimed_by=who, claimed_until=now + lease)
        )
        return bool(took.rowcount)


def give_back(store: Store, table: Table, name: str, who: str) -> None:
    with store.write() as conn:
        conn.execute(
            update(table)
            .where(table.c.name == name, table.c.claimed_by == who)
            .values(claimed_by=None, claimed_until=None)
        )
