"""A package's receipt as things stand now: the lines its original receipt called ``held``,
looked up again.

A record held for its parent is placed when the parent arrives, possibly in a later package
from another sender, or quarantined when its hold expires; the original receipt cannot say
so, and its sender would keep "held" for ever.  This receipt is the original with those
lines brought up to date — accepted at the version the record has now, or quarantined
``hold.expired`` — issued and signed now (``GET /v1/packages/{id}/status``).  Every other
line is as it was.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from hub.package import archive
from hub.package.build import SigningIdentity
from hub.package.receipt import RECEIPT, RecordVerdict, parse, sign
from hub.store.bulk import Bulk
from hub.store.engine import Store
from hub.store.models import Package, table

PKG = table(Package)


def current_receipt(
    store: Store, package_id: str, who: SigningIdentity, now: datetime
) -> bytes | None:
    """The signed receipt of ``package_id`` as of ``now`` (None: no receipt yet); the stored
    bytes themselves when none of its lines was held."""
    with store.read() as conn:
        stored = conn.execute(select(PKG.c.receipt).where(PKG.c.package_id == package_id)).scalar()
        if stored is None:
            return None
        original = parse(dict(archive.read(stored, "stored receipt"))[RECEIPT], "stored receipt")
        held = {(r.dataset, r.key) for r in original.records if r.outcome == "held" and r.key}
        if not held:
            return bytes(stored)
        db = Bulk(conn)
        placed = {
            (ds, key): int(vno)
            for ds, key, vno, deleted in db.select_keys(
                "c.dataset, c.business_key, v.version_no, c.deleted",
                "current_record c JOIN record_version v ON v.id = c.version_id",
                held,
                ds_col="c.dataset",
                key_col="c.business_key",
            )
            if not deleted
        }
        expired = {
            (ds, key)
            for ds, key in db.select_keys(
                "dataset, business_key", "hold", held, where="status = 'expired'"
            )
        }
    records = [_now(r, placed, expired) for r in original.records]
    counts: dict[str, int] = {}
    for r in records:
        counts[r.outcome] = counts.get(r.outcome, 0) + 1
    return sign(
        original.model_copy(update={"issued": now, "records": records, "counts": counts}), who
    )


def _now(
    r: RecordVerdict, placed: dict[tuple[str, str], int], expired: set[tuple[str, str]]
) -> RecordVerdict:
    if r.outcome != "held" or r.key is None:
        return r
    k = (r.dataset, r.key)
    if k in placed:
        return r.model_copy(
            update={"outcome": "accepted", "version": placed[k], "rule": None, "field": None,
                    "value": None, "message": "released when its parent arrived"}
        )  # fmt: skip
    if k in expired:
        return r.model_copy(
            update={"outcome": "quarantined", "rule": "hold.expired",
                    "message": "its parent never arrived; the hold expired (raw kept)"}
        )  # fmt: skip
    return r
