"""What a chunk needs to know of the store before it places its records, read in a few
queries: the keys' current rows, the contents already stored for them, which parents are
known, which records are already held, and the records deletes name by the sender's key."""

from __future__ import annotations

from typing import Any

import orjson

from hub.ingest.chunk import Cand, Cur, Item
from hub.reconcile.decide import State, Version
from hub.store.bulk import Bulk
from hub.validation.issues import Issue


def load_current(db: Bulk, keys: set[tuple[str, str]]) -> dict[Any, Cur]:
    out: dict[Any, Cur] = {}
    rows = db.select_keys(
        "c.dataset, c.business_key, c.data_timestamp, c.content_hash, c.deleted, "
        "c.conflict, c.versions, c.version_id, c.source, v.version_no",
        "current_record c JOIN record_version v ON v.id = c.version_id",
        keys,
        ds_col="c.dataset",
        key_col="c.business_key",
    )
    for ds, key, ts, h, deleted, conflict, versions, vid, source, vno in rows:
        st = State(Version(ts, h, bool(deleted)), bool(conflict), versions)
        out[(ds, key)] = Cur(st, vid, vno, source, True)
    return out


def load_hashes(
    db: Bulk, cur: dict[Any, Cur], cands: list[tuple[int, Cand]]
) -> dict[Any, dict[str, tuple[int | None, int, str]]]:
    """Known contents per key: hash → (version id, version no, source); only the
    candidates' own contents are looked up (a key may have many versions)."""
    need = {
        (*k, c.hash)
        for _, c in cands
        if (k := (c.plan.dataset, c.key)) in cur and cur[k].state.current.content_hash != c.hash
    }
    out: dict[Any, dict[str, tuple[int | None, int, str]]] = {}
    rows = db.select_exact(
        "dataset, business_key, content_hash, id, version_no, source",
        "record_version",
        ("dataset", "business_key", "content_hash"),
        need,
    )
    for ds, key, h, vid, vno, source in rows:
        out.setdefault((ds, key), {})[h] = (vid, vno, source)
    for k, c in cur.items():
        out.setdefault(k, {}).setdefault(
            c.state.current.content_hash, (c.version_id, c.version_no, c.source)
        )
    return out


def load_parents(
    db: Bulk, cands: list[tuple[int, Cand]], cur: dict[Any, Cur]
) -> set[tuple[str, str]]:
    want = set()
    for _, c in cands:
        if c.plan.parent:
            pk = c.p.parent_key
            if pk is not None and (c.plan.parent, pk) not in cur:
                want.add((c.plan.parent, pk))
    return {(r[0], r[1]) for r in db.select_keys("dataset, business_key", "current_record", want)}


def load_waiting(db: Bulk, cands: list[tuple[int, Cand]]) -> set[tuple[str, str, str]]:
    """(data set, key, content hash) of records already held (those with a parent)."""
    want = {(c.plan.dataset, c.key) for _, c in cands if c.plan.parent}
    rows = db.select_keys(
        "dataset, business_key, content_hash", "hold", want, where="status = 'held'"
    )
    return {(r[0], r[1], r[2]) for r in rows}


def by_sender_key(db: Bulk, items: list[Item], stamp: str) -> None:
    """A delete that names its record by the sender's key alone (Fujian's DATA_TYPE 3: a TITLE,
    no CONTEXT) takes the fields of the latest version that key named, with ``stamp`` (the
    arrival time) as its DATA_TIMESTAMP, so that it is newer than what it deletes; a key
    never received leaves it without fields, and it is rejected (``delete.unknown``)."""
    asks = [
        it
        for it in items
        if it.raw.op == "delete" and it.raw.key and not it.raw.fields and not it.raw.problem
    ]
    if not asks:
        return
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    for ds, key, vid, content in db.select_exact(
        "dataset, sender_key, id, content",
        "record_version",
        ("dataset", "sender_key"),
        {(it.raw.dataset, str(it.raw.key)) for it in asks},
    ):
        if (ds, key) not in latest or latest[(ds, key)][0] < vid:
            latest[(ds, key)] = (vid, content)
    for it in asks:
        found = latest.get((it.raw.dataset, str(it.raw.key)))
        if found is not None:
            it.raw.fields = {**orjson.loads(found[1]), "DATA_TIMESTAMP": stamp}
            it.prep = None
            continue
        text = (
            f"{it.source}, record {it.index}, {it.raw.dataset}: a delete by the sender's key "
            f"{it.raw.key!r}, but no record was received with that key; send the delete with "
            "the record's fields (its business key), or check DATA_KEY"
        )
        it.issues = [
            *it.issues,
            Issue(it.source, it.index, it.raw.dataset, "", "delete.unknown", it.raw.key, text),
        ]
