"""What became of a record upstream: for each target, the version of it this node sent, in
which package and line, when, and what the target answered (accepted as its version n, or
rejected with rule, field and value), with the time the hop took.  Pure reading; `hub show`,
the API's record and the console's record page show it beside the record's history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from hub.forward.outbox import ITEM
from hub.store.engine import utc


def upstream(
    conn: Connection, dataset: str, key: str, history: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One entry per target this node sent the record to.  ``history``: the record's
    versions here (``hub.query.records.show``), to name the version sent and time the hop
    from its arrival here to the target's answer."""
    here = {v["id"]: v for v in history}
    newest = max(here, default=None, key=lambda i: (here[i]["data_timestamp"], here[i]["version"]))
    out = []
    for r in conn.execute(
        select(ITEM)
        .where(ITEM.c.dataset == dataset, ITEM.c.business_key == key)
        .order_by(ITEM.c.target)
    ):
        v = here.get(r.version_id, {})
        arrived, answered = utc(v.get("received_at")), utc(r.verdict_at)
        out.append(
            {
                "target": r.target,
                "op": r.op,
                "version_id": r.version_id,
                "version": v.get("version"),
                "source": v.get("source"),
                "newest_here": r.version_id == newest,
                "package_id": r.package_id,
                "line": r.line,
                "sent_at": utc(r.sent_at),
                "outcome": r.outcome or "waiting",
                "upstream_version": r.upstream_version,
                "rule": r.rule,
                "field": r.field,
                "value": r.value,
                "message": r.message,
                "verdict_at": answered,
                "seconds": _seconds(arrived, answered),
            }
        )
    return out


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return round((end - start).total_seconds(), 3) if start and end else None
