"""What an administrator does to the store: each action checks what it acts on, changes it
in one transaction and writes the audit entry in that same transaction.

The CLI, the API and the console call these; none of them changes the store another way.
(Replaying quarantine is ``hub.ingest.replay.replay``: it is an ingest.)
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from hub.dictionary.loader import load_dictionary
from hub.errors import UsageError
from hub.reconcile.keys import key_plans
from hub.reconcile.prepare import LINK_VALUE_LEN
from hub.store import audit
from hub.store.engine import Store
from hub.store.models import (
    Conflict,
    CurrentRecord,
    Quarantine,
    RecordRef,
    RecordVersion,
    table,
)

CONF, CUR, VER, REF, Q = (
    table(Conflict),
    table(CurrentRecord),
    table(RecordVersion),
    table(RecordRef),
    table(Quarantine),
)


def cli_actor() -> str:
    """Who acts from a shell: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def resolve_conflict(
    store: Store, conflict_id: int, take_version: int, actor: str, note: str = ""
) -> dict[str, Any]:
    """Make version number ``take_version`` of the key (one of the tied versions, numbered as
    `hub show` numbers them) the current one and close the conflict.  A later version with a
    newer DATA_TIMESTAMP still supersedes it as usual."""
    with store.write() as conn:
        c = conn.execute(select(CONF).where(CONF.c.id == conflict_id)).one_or_none()
        if c is None:
            raise UsageError(f"no conflict {conflict_id}; `hub conflicts` lists the open ones")
        if c.status != "open":
            raise UsageError(
                f"conflict {conflict_id} is already {c.status} (took version id {c.version_id} "
                f"by {c.resolved_by})"
            )
        v = conn.execute(
            select(VER.c.id, VER.c.op, VER.c.content, VER.c.content_hash, VER.c.source).where(
                VER.c.version_no == take_version,
                VER.c.dataset == c.dataset,
                VER.c.business_key == c.business_key,
                VER.c.data_timestamp == c.data_timestamp,
            )
        ).one_or_none()
        if v is None:
            tied = conn.execute(
                select(VER.c.version_no).where(
                    VER.c.dataset == c.dataset,
                    VER.c.business_key == c.business_key,
                    VER.c.data_timestamp == c.data_timestamp,
                )
            ).scalars()
            raise UsageError(
                f"version {take_version} is not one of the versions in conflict {conflict_id}"
                f"; take one of {', '.join(map(str, tied))} (`hub conflicts show {conflict_id}`)"
            )
        now = datetime.now(UTC)
        cur = conn.execute(
            select(CUR.c.version_id, CUR.c.data_timestamp).where(
                CUR.c.dataset == c.dataset, CUR.c.business_key == c.business_key
            )
        ).one()
        superseded = cur.data_timestamp > c.data_timestamp
        if not superseded:
            conn.execute(
                update(CUR)
                .where(CUR.c.dataset == c.dataset, CUR.c.business_key == c.business_key)
                .values(
                    version_id=v.id,
                    content_hash=v.content_hash,
                    deleted=v.op == "delete",
                    conflict=False,
                    source=v.source,
                    updated_at=now,
                )
            )
            _relink(conn, c.dataset, c.business_key, v.content)
        conn.execute(
            update(CONF)
            .where(CONF.c.id == conflict_id)
            .values(
                status="resolved", resolved_at=now, resolved_by=actor, version_id=v.id, note=note
            )
        )
        detail = {
            "dataset": c.dataset,
            "key": c.business_key,
            "data_timestamp": c.data_timestamp,
            "took": take_version,
            "version_id": v.id,
            "was": cur.version_id,
            "superseded": superseded,
            "note": note,
        }
        audit.append(conn, actor, "conflict.resolve", f"conflict {conflict_id}", detail)
    return detail


def _relink(conn: Connection, dataset: str, key: str, content: str) -> None:
    """The lifecycle links of the record now follow the version taken."""
    plan = key_plans(load_dictionary()).get(dataset)
    conn.execute(delete(REF).where(REF.c.dataset == dataset, REF.c.business_key == key))
    if plan is None:
        return
    links = dict.fromkeys((f, val[:LINK_VALUE_LEN]) for f, val in plan.links(orjson.loads(content)))
    if links:
        conn.execute(
            insert(REF),
            [{"dataset": dataset, "business_key": key, "field": f, "value": x} for f, x in links],
        )


def discard_quarantine(store: Store, ids: list[int], reason: str, actor: str) -> list[int]:
    """Close open quarantine rows without taking them; the raw record stays as evidence."""
    if not reason.strip():
        raise UsageError("say why with --reason: the audit log keeps it beside the raw record")
    with store.write() as conn:
        rows = conn.execute(select(Q.c.id, Q.c.status).where(Q.c.id.in_(ids))).all()
        found = {r.id: r.status for r in rows}
        missing = [i for i in ids if i not in found]
        closed = [i for i, s in found.items() if s != "open"]
        if missing or closed:
            raise UsageError(
                (f"no quarantine row {', '.join(map(str, missing))}; " if missing else "")
                + (f"not open: {', '.join(map(str, closed))}; " if closed else "")
                + "`hub quarantine list` shows the open ones"
            )
        now = datetime.now(UTC)
        conn.execute(
            update(Q)
            .where(Q.c.id.in_(ids))
            .values(status="discarded", resolution="discarded", resolved_at=now, note=reason)
        )
        audit.append(
            conn,
            actor,
            "quarantine.discard",
            f"quarantine {', '.join(map(str, ids))}",
            {"ids": ids, "reason": reason},
        )
    return sorted(ids)
