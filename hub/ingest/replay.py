"""Replay quarantined records after a dictionary or mapping fix.

Each replayed record is validated again with today's dictionary and reconciled in a new
sync run (origin ``replay:quarantine``).  A record that is still not acceptable stays in
quarantine with the new reason; otherwise the row is closed with the replay's outcome.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from hub.config import IngestSection
from hub.dictionary.loader import load_dictionary
from hub.ingest.chunk import Item
from hub.ingest.outcome import Counts, Outcome
from hub.ingest.pipeline import default_validator
from hub.ingest.reconciler import Reconciler
from hub.mapping.compiled import Mapping
from hub.mapping.records import ROW_FORMAT, replay_row
from hub.store import audit
from hub.store.engine import Store
from hub.store.models import Quarantine, SyncRun, table

Q, RUN = table(Quarantine), table(SyncRun)


def replay(
    store: Store,
    ids: Sequence[int] | None = None,
    settings: IngestSection | None = None,
    now: datetime | None = None,
    mappings: Callable[[str], Mapping | None] | None = None,
    actor: str = "hub",
) -> tuple[Counts, dict[int, str]]:
    """Replay open quarantine rows (all, or ``ids``); return counts and id → outcome.

    A source row (quarantined by a mapping) is mapped again with ``mappings(source)``,
    today's mapping of its source; without one it stays in quarantine."""
    settings = settings or IngestSection()
    clock = now or datetime.now(UTC)
    validator = default_validator(settings)
    with store.read() as conn:
        q = select(Q).where(Q.c.status == "open").order_by(Q.c.id)
        if ids:
            q = q.where(Q.c.id.in_(list(ids)))
        rows = list(conn.execute(q))
    counts, outcomes = Counts(), dict[int, str]()
    if not rows:
        return counts, outcomes
    with store.write() as conn:
        run_id = conn.execute(
            RUN.insert().returning(RUN.c.id),
            {
                "source": rows[0].source if len({r.source for r in rows}) == 1 else "(several)",
                "origin": f"replay:quarantine {rows[0].id}..{rows[-1].id}",
                "status": "running",
                "started_at": clock,
            },
        ).scalar_one()
        rec = Reconciler(load_dictionary(), run_id, clock, timedelta(hours=settings.hold_hours))
        for row in rows:
            data = row.raw_record.encode("utf-8")
            fmt = row.raw_format
            if fmt == ROW_FORMAT:
                mapping = mappings(row.source) if mappings else None
                again = (
                    replay_row(mapping, validator, row.raw_record, row.record_index, row.source)
                    if mapping is not None
                    else None
                )
                if again is None:
                    outcomes[row.id] = Outcome.QUARANTINED.value
                    continue  # no mapping for it today: it stays as it is
                results = [again]
            else:
                if fmt == "xml":
                    data = b"<BATCH>" + data + b"</BATCH>"
                results = [
                    r
                    for r in validator.iter_bytes(data, f"quarantine/{row.id}", fmt)
                    if r.raw.index
                ]
            items = [
                Item(row.record_index, r.raw, r.issues, fmt, row.source, row.raw_sha256)
                for r in results[:1]
            ]
            res = rec.apply(conn, items)
            counts.merge(res.counts)
            v = res.verdicts[0]
            outcomes[row.id] = v.outcome.value
            if v.outcome is Outcome.QUARANTINED:
                # still not acceptable: the row stays open with today's reason
                conn.execute(
                    update(Q)
                    .where(Q.c.id == row.id)
                    .values(rule=v.rule or row.rule, message=v.message or row.message)
                )
            else:
                conn.execute(
                    update(Q)
                    .where(Q.c.id == row.id)
                    .values(status="replayed", resolved_at=clock, resolution=v.outcome.value)
                )
        conn.execute(
            update(RUN)
            .where(RUN.c.id == run_id)
            .values(status="done", finished_at=datetime.now(UTC), **counts.as_dict())
        )
        audit.append(conn, actor, "quarantine.replay", f"run {run_id}", {"outcomes": outcomes})
    return counts, outcomes
