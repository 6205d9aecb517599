"""Holds past their deadline: a child record whose parent never came is quarantined (rule
``hold.expired``) with its raw envelope kept, so it can be replayed once the parent is in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from hub.store import audit
from hub.store.engine import Store
from hub.store.models import Hold, Quarantine, table
from hub.store.upsert import insert_ignore

HOLD = table(Hold)


def expire_holds(store: Store, now: datetime) -> int:
    """Holds past their deadline become quarantined (rule hold.expired), raw kept for replay."""
    with store.write() as conn:
        rows = list(
            conn.execute(select(HOLD).where(HOLD.c.status == "held", HOLD.c.deadline < now))
        )
        if not rows:
            return 0
        insert_ignore(
            conn,
            table(Quarantine),
            [
                {
                    "run_id": h.run_id,
                    "source": h.source,
                    "raw_sha256": h.raw_sha256,
                    "record_index": h.record_index,
                    "dataset": h.dataset,
                    "rule": "hold.expired",
                    "message": f"{h.dataset} {h.business_key!r} waited for {h.parent_dataset} "
                    f"{h.parent_key!r} until {h.deadline}; the parent never arrived",
                    "raw_record": h.envelope,
                    "raw_format": "jsonl",
                    "status": "open",
                    "created_at": now,
                }
                for h in rows
            ],
        )
        conn.execute(
            update(HOLD)
            .where(HOLD.c.id.in_([h.id for h in rows]))
            .values(status="expired", resolved_at=now)
        )
        audit.append(
            conn, "hub", "holds.expired", f"{len(rows)} holds", {"ids": [h.id for h in rows]}
        )
    return len(rows)
