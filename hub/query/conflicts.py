"""Conflicts: two contents for one key at one DATA_TIMESTAMP, listed with the versions
that tie, side by side (the CLI, the API and the console call these)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select

from hub.errors import UsageError
from hub.query.fates import CONF, CUR, VER, Page, Window, _between, _page


def conflicts(conn: Connection, w: Window, status: str | None = "open") -> Page:
    """Keys with two contents at the same DATA_TIMESTAMP, and the sources that sent them."""
    q = _between(select(CONF), CONF.c.detected_at, w)
    if status:
        q = q.where(CONF.c.status == status)
    page = _page(conn, q, CONF.c.id, Window(limit=w.limit, before=w.before))
    for r in page.rows:
        r["versions"] = contenders(conn, r["dataset"], r["business_key"], r["data_timestamp"])
    if w.scope is not None:  # a county sees its own versions only, never another's content
        for r in page.rows:
            r["versions"] = [v for v in r["versions"] if v["source"] in w.scope]
    if w.source:
        page.rows = [r for r in page.rows if any(v["source"] == w.source for v in r["versions"])]
    page.rows = [r for r in page.rows if r["versions"]]
    return page


def contenders(conn: Connection, dataset: str, key: str, ts: str) -> list[dict[str, Any]]:
    """The versions tied at ``ts``: id, number, source, content; which one is current."""
    current = conn.execute(
        select(CUR.c.version_id).where(CUR.c.dataset == dataset, CUR.c.business_key == key)
    ).scalar()
    rows = conn.execute(
        select(
            VER.c.id,
            VER.c.version_no,
            VER.c.op,
            VER.c.source,
            VER.c.run_id,
            VER.c.received_at,
            VER.c.content,
        )
        .where(VER.c.dataset == dataset, VER.c.business_key == key, VER.c.data_timestamp == ts)
        .order_by(VER.c.version_no)
    )
    return [
        {**dict(r._mapping), "content": orjson.loads(r.content), "current": r.id == current}
        for r in rows
    ]


def differing_fields(versions: Sequence[dict[str, Any]]) -> list[str]:
    """Fields whose values are not the same in every version (the side-by-side diff)."""
    keys = sorted({k for v in versions for k in v["content"]})
    return [k for k in keys if len({orjson.dumps(v["content"].get(k)) for v in versions}) > 1]


def conflict(conn: Connection, conflict_id: int) -> dict[str, Any] | None:
    row = conn.execute(select(CONF).where(CONF.c.id == conflict_id)).one_or_none()
    if row is None:
        return None
    c = dict(row._mapping)
    c["versions"] = contenders(conn, c["dataset"], c["business_key"], c["data_timestamp"])
    return c


def conflict_id(conn: Connection, ref: str) -> int:
    """A conflict named by its id or by its record's business key (the open one)."""
    if ref.isdigit():
        return int(ref)
    ids = list(
        conn.execute(
            select(CONF.c.id).where(CONF.c.business_key == ref, CONF.c.status == "open")
        ).scalars()
    )
    if len(ids) == 1:
        return int(ids[0])
    if not ids:
        raise UsageError(f"no open conflict on key {ref!r}; `hub conflicts` lists them")
    raise UsageError(
        f"key {ref!r} has {len(ids)} open conflicts ({', '.join(map(str, ids))}): name one by id"
    )
