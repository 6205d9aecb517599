"""Runs whose process is gone: a run still marked ``running`` whose owner was a process of
this machine that no longer runs (SIGKILL, a crash, a power cut) is marked ``interrupted``
by the next run that starts here, so run lists and `hub db check` do not show it running
for ever.  What it committed stays; the same input again completes it (duplicates)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from hub.store.lease import gone
from hub.store.models import SyncRun, table

RUN = table(SyncRun)


def interrupt_dead(conn: Connection, now: datetime) -> list[int]:
    """Mark the running runs of dead processes of this machine interrupted; their ids."""
    rows = conn.execute(
        select(RUN.c.id, RUN.c.owner).where(RUN.c.status == "running", RUN.c.owner.is_not(None))
    ).all()
    dead = [r.id for r in rows if gone(r.owner)]
    if dead:
        conn.execute(
            update(RUN)
            .where(RUN.c.id.in_(dead), RUN.c.status == "running")
            .values(
                status="interrupted",
                finished_at=now,
                error="its process was killed or crashed; what it committed stays",
            )
        )
    return dead
