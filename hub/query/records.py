"""Looking at the data: one record with its history and provenance; a transaction's lifecycle."""

from __future__ import annotations

from collections import deque
from typing import Any

import orjson
from sqlalchemy import Connection, select

from hub.dictionary.loader import Dictionary
from hub.errors import UsageError
from hub.forward.trace import upstream
from hub.reconcile.keys import KEY_SEP, key_plans
from hub.store.keyfilter import key_in, parts
from hub.store.models import (
    Conflict,
    CurrentRecord,
    EntityClaim,
    Hold,
    RecordAttachment,
    RecordRef,
    RecordVersion,
    Sighting,
    table,
)

LIFECYCLE_LIMIT = 5000  # records; a code that reaches more is not one transaction


def _version_dict(v: Any) -> dict[str, Any]:
    return {
        "id": v.id,
        "version": v.version_no,
        "op": v.op,
        "data_timestamp": v.data_timestamp,
        "source": v.source,
        "sender_key": v.sender_key,
        "package": v.package_id,
        "signer": v.signer,
        "run": v.run_id,
        "raw_sha256": v.raw_sha256,
        "record_index": v.record_index,
        "received_at": v.received_at,
        "content_hash": v.content_hash,
        "content": orjson.loads(v.content),
    }


def show(conn: Connection, d: Dictionary, dataset: str, key: str) -> dict[str, Any]:
    ds = d.dataset(dataset)
    cur = conn.execute(
        select(CurrentRecord, RecordVersion.content)
        .join(RecordVersion, RecordVersion.id == CurrentRecord.version_id)
        .where(CurrentRecord.dataset == ds.name, CurrentRecord.business_key == key)
    ).one_or_none()
    versions = conn.execute(
        select(RecordVersion)
        .where(RecordVersion.dataset == ds.name, RecordVersion.business_key == key)
        .order_by(RecordVersion.data_timestamp, RecordVersion.version_no)
    ).all()
    history = [_version_dict(v) for v in versions]
    holds = conn.execute(
        select(Hold.id, Hold.status, Hold.parent_dataset, Hold.parent_key, Hold.deadline).where(
            Hold.dataset == ds.name, Hold.business_key == key
        )
    ).all()
    if cur is None and not history and not holds:
        raise UsageError(
            f"no {ds.name} with key {key!r}; the key is "
            f"{' + '.join(ds.business_key)} joined with {KEY_SEP!r}"
        )
    ids = [v["id"] for v in history]
    sightings = (
        conn.execute(
            select(Sighting.version_id, Sighting.source, Sighting.seen_at).where(
                Sighting.version_id.in_(ids)
            )
        ).all()
        if ids
        else []
    )
    listed = _attachments(conn, ids)
    for v in history:
        v["attachments"] = listed.get(v["id"], [])
    out: dict[str, Any] = {
        "dataset": ds.name,
        "name_cn": ds.name_cn,
        "library": ds.library,
        "key": key,
        "key_fields": list(ds.business_key),
        "current": None,
        "history": history,
        "sightings": [dict(s._mapping) for s in sightings],
        "holds": [dict(h._mapping) for h in holds],
    }
    if cur is not None:
        out["current"] = {
            "version_id": cur.version_id,
            "data_timestamp": cur.data_timestamp,
            "deleted": cur.deleted,
            "conflict": cur.conflict,
            "versions": cur.versions,
            "source": cur.source,
            "content": orjson.loads(cur.content),
            "attachments": listed.get(cur.version_id, []),
        }
    if cur is not None and cur.conflict:
        out["conflicts"] = [
            dict(c._mapping)
            for c in conn.execute(
                select(Conflict.data_timestamp, Conflict.status, Conflict.detected_at).where(
                    Conflict.dataset == ds.name, Conflict.business_key == key
                )
            )
        ]
    out["disagreements"] = disagreements(history)
    out["upstream"] = upstream(conn, ds.name, key, history)  # what became of it above
    if ds.library == "entities":
        out["entity_claims"] = [
            dict(c._mapping)
            for c in conn.execute(
                select(
                    EntityClaim.role,
                    EntityClaim.source,
                    EntityClaim.dataset,
                    EntityClaim.name,
                    EntityClaim.data_timestamp,
                ).where(EntityClaim.code == key.split(KEY_SEP, maxsplit=1)[0])
            )
        ]
    return out


def _attachments(conn: Connection, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The attachments each version arrived with (Fujian's FILECONTEXT), in their order."""
    out: dict[int, list[dict[str, Any]]] = {}
    if not ids:
        return out
    a = table(RecordAttachment)
    rows = conn.execute(
        select(a.c.version_id, a.c.code, a.c.name, a.c.location, a.c.removed)
        .where(a.c.version_id.in_(ids))
        .order_by(a.c.version_id, a.c.seq)
    )
    for r in rows:
        out.setdefault(r.version_id, []).append(
            {"code": r.code, "name": r.name, "location": r.location, "removed": r.removed}
        )
    return out


def as_seen_by(rec: dict[str, Any], mine: set[str]) -> dict[str, Any] | None:
    """``rec`` as a county sees it: only versions and sightings from its own sources, none of
    what others said (holds, disagreements, conflicts); None when it sent none of it."""
    out = dict(rec)
    out["history"] = [v for v in rec["history"] if v["source"] in mine]
    ids = {v["id"] for v in out["history"]}
    out["upstream"] = [u for u in rec.get("upstream", []) if u["version_id"] in ids]
    out["sightings"] = [x for x in rec["sightings"] if x["source"] in mine]
    if out["current"] is not None and out["current"]["source"] not in mine:
        out["current"] = None
    for k in ("holds", "disagreements", "entity_claims", "conflicts"):
        out.pop(k, None)
    return out if out["history"] or out["sightings"] else None


def disagreements(history: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Fields whose values differ between sources, comparing each source's newest version."""
    latest: dict[str, dict[str, Any]] = {}
    for v in history:  # ordered by timestamp: later ones replace earlier ones
        if v["op"] != "delete":
            latest[v["source"]] = v["content"]
    if len(latest) < 2:
        return {}
    fields = sorted({f for c in latest.values() for f in c} - {"DATA_TIMESTAMP"})
    out = {}
    for f in fields:
        values = {src: c.get(f) for src, c in latest.items()}
        if len(set(map(str, values.values()))) > 1:
            out[f] = values
    return out


def lifecycle(conn: Connection, d: Dictionary, code: str) -> list[dict[str, Any]]:
    """Every current record tied to ``code`` (a PROJECT_CODE, TENDER_PROJECT_CODE,
    UNIFIED_DEAL_CODE …) through link codes, in the order things happened."""
    refs = table(RecordRef)
    seen_values: set[str] = set()
    seen_records: set[tuple[str, str]] = set()
    todo = deque([code])
    while todo and len(seen_records) <= LIFECYCLE_LIMIT:
        batch: list[str] = []
        while todo and len(batch) < 200:
            v = todo.popleft()
            if v not in seen_values:
                seen_values.add(v)
                batch.append(v)
        if not batch:
            break
        hits = conn.execute(
            select(refs.c.dataset, refs.c.business_key).where(refs.c.value.in_(batch))
        ).all()
        new = {(h.dataset, h.business_key) for h in hits} - seen_records
        seen_records |= new
        if new:
            for part in parts(sorted(new)):
                for r in conn.execute(
                    select(refs.c.value).where(key_in(refs.c.dataset, refs.c.business_key, part))
                ):
                    if r.value not in seen_values:
                        todo.append(r.value)
    if not seen_records:
        return []
    rows: list[Any] = []
    for part in parts(sorted(seen_records)):
        rows += conn.execute(
            select(CurrentRecord).where(
                key_in(CurrentRecord.dataset, CurrentRecord.business_key, part)
            )
        ).all()
    plans = key_plans(d)
    out = [
        {
            "dataset": r.dataset,
            "name_cn": d.datasets[r.dataset].name_cn if r.dataset in d.datasets else "",
            "key": r.business_key,
            "data_timestamp": r.data_timestamp,
            "deleted": r.deleted,
            "conflict": r.conflict,
            "versions": r.versions,
            "source": r.source,
            "depth": plans[r.dataset].depth if r.dataset in plans else 0,
            "library": r.library,
        }
        for r in rows
    ]
    # the transaction's own records in the order things happened; then what other libraries
    # (entities' performance, experts, credit, supervision) say about it
    out.sort(
        key=lambda x: (
            x["library"] != "transactions",
            x["data_timestamp"],
            x["depth"],
            x["dataset"],
            x["key"],
        )
    )
    return out
