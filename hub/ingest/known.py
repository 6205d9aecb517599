"""What a chunk needs to know of the store before it places its records, read in a few
queries: the keys' current rows, the contents already stored for them, which parents are
known, and which records are already held."""

from __future__ import annotations

from typing import Any

from hub.ingest.chunk import Cand, Cur
from hub.reconcile.decide import State, Version
from hub.store.bulk import Bulk


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
