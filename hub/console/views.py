"""What the console's pages show, read from the store: a search by business key or package
id, one record's lifecycle, the trust material's days left (the sources at a glance:
``hub.query.overview``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from hub.config import NodeConfig
from hub.dictionary.loader import Dictionary
from hub.query import fates
from hub.query.records import lifecycle
from hub.store.engine import utc
from hub.store.keyfilter import key_in
from hub.store.models import CurrentRecord, Package, RecordRef, RecordVersion, SyncRun, table

RUN, CUR, VER, PKG = table(SyncRun), table(CurrentRecord), table(RecordVersion), table(Package)
REF = table(RecordRef)


def search(
    conn: Connection, d: Dictionary, q: str, scope: tuple[str, ...] | None
) -> dict[str, Any]:
    """Records whose business key is ``q`` (any data set), records tied to ``q`` through link
    codes (a project code, UNIFIED_DEAL_CODE …), and a package with that id."""
    q = q.strip()
    found: dict[str, Any] = {"q": q, "records": [], "tied": [], "package": None}
    if not q:
        return found
    rows: list[Any] = list(conn.execute(
        select(CUR.c.dataset, CUR.c.business_key, CUR.c.source, CUR.c.data_timestamp,
               CUR.c.versions, CUR.c.deleted, CUR.c.conflict)
        .where(CUR.c.dataset.in_(list(d.datasets)), CUR.c.business_key == q)
    ))  # fmt: skip
    # a sender's own record key (a Fujian DATA_KEY, the ``key`` of a batch line) names the
    # records whose versions it came with
    by_sender_key = conn.execute(
        select(VER.c.dataset, VER.c.business_key)
        .where(VER.c.sender_key == q, VER.c.sender_key.is_not(None))
        .distinct()
        .limit(50)
    ).all()
    if by_sender_key:
        rows += conn.execute(
            select(CUR.c.dataset, CUR.c.business_key, CUR.c.source, CUR.c.data_timestamp,
                   CUR.c.versions, CUR.c.deleted, CUR.c.conflict)
            .where(key_in(CUR.c.dataset, CUR.c.business_key,
                          [(r.dataset, r.business_key) for r in by_sender_key]))
        ).all()  # fmt: skip
    found["records"] = [
        dict(r._mapping) | {"name_cn": d.datasets[r.dataset].name_cn}
        for r in {(r.dataset, r.business_key): r for r in rows}.values()
        if scope is None or r.source in scope
    ]
    tied = lifecycle(conn, d, q)
    found["tied"] = [t for t in tied if scope is None or t["source"] in scope]
    pkg = conn.execute(
        select(PKG.c.id, PKG.c.package_id, PKG.c.sender, PKG.c.status, PKG.c.received_at,
               PKG.c.signer)
        .where(PKG.c.package_id == q)
    ).first()  # fmt: skip
    if pkg is not None and (scope is None or pkg.sender in scope):
        p = dict(pkg._mapping)
        p["records"] = conn.execute(select(func.count()).where(VER.c.package_id == pkg.id)).scalar()
        found["package"] = p
    return found


def record_extras(conn: Connection, d: Dictionary, rec: dict[str, Any]) -> dict[str, Any]:
    """For one record's page: the packages its versions came in (with their receipts) and the
    transaction it belongs to, through its first link code."""
    pkg_ids = {v["package"] for v in rec["history"] if v["package"] is not None}
    packages = {
        r.id: dict(r._mapping) | {"has_receipt": r.has_receipt}
        for r in conn.execute(
            select(PKG.c.id, PKG.c.package_id, PKG.c.sender, PKG.c.status, PKG.c.received_at,
                   PKG.c.receipt.is_not(None).label("has_receipt"))
            .where(PKG.c.id.in_(pkg_ids))
        )
    }  # fmt: skip
    codes = list(
        conn.execute(
            select(REF.c.value)
            .where(REF.c.dataset == rec["dataset"], REF.c.business_key == rec["key"])
            .order_by(REF.c.field)
        ).scalars()
    )
    ds = d.datasets[rec["dataset"]]
    fields = {f.id: f.name_cn for f in ds.fields}
    from hub.supervise.findings import about  # noqa: PLC0415

    return {
        "findings": about(conn, rec["dataset"], rec["key"]),
        "packages": packages,
        "lifecycle": lifecycle(conn, d, codes[0]) if codes else [],
        "link_code": codes[0] if codes else None,
        "field_names": fields,
    }


def trust(cfg: NodeConfig) -> list[dict[str, Any]]:
    """This node's certificate, its CAs and CRLs with the days left on each."""
    from hub.watch.alerts import certificates, expiry_level, steps_for  # noqa: PLC0415

    now = datetime.now(UTC)
    out = []
    for what, ends, span in certificates(cfg):
        left = (ends - now).total_seconds() / 86400
        out.append(
            {
                "what": what,
                "ends": ends,
                "days_left": left,
                "level": expiry_level(left, steps_for(span, cfg.alerts.expiry_days)) or "ok",
            }
        )
    return out


def source_runs(conn: Connection, name: str, before: int | None) -> fates.Page:
    return fates.runs(conn, fates.Window(source=name, limit=30, before=before))


def running(conn: Connection, name: str) -> dict[str, Any] | None:
    row = conn.execute(
        select(RUN).where(RUN.c.source == name, RUN.c.status == "running")
        .order_by(RUN.c.id.desc()).limit(1)
    ).first()  # fmt: skip
    if row is None:
        return None
    r = dict(row._mapping)
    r["started_at"] = utc(r["started_at"])
    return r
