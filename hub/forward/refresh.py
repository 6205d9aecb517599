"""Verdicts a target gave as ``held`` asked for again: the record may have been placed since
(its parent arrived, perhaps from another sender) or quarantined (its hold expired).

After each pass the forwarder asks the target for the current receipt of the packages that
still have held lines (``Adapter.status``: for a hub, ``GET /v1/packages/{id}/status``),
verifies it as any receipt, and keeps its verdicts; a target that cannot say keeps its lines
held.  A few packages per pass, the oldest first, so a long backlog costs each pass little.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from hub.config import NodeConfig
from hub.errors import HubError
from hub.forward.deliver import D
from hub.forward.verdicts import record_verdicts
from hub.package.node import trust_store
from hub.package.receipt import verify
from hub.sources import open_target
from hub.store.engine import Store
from hub.store.models import ForwardItem, table

ITEM = table(ForwardItem)
PER_PASS = 20


def held_packages(store: Store, name: str, limit: int = PER_PASS) -> list[tuple[str, str]]:
    """(package id, archive SHA-256) of the packages whose lines ``name`` still holds."""
    with store.read() as conn:
        rows = conn.execute(
            select(D.c.package_id, D.c.raw_sha256)
            .where(
                D.c.target == name,
                D.c.status == "delivered",
                D.c.package_id.in_(
                    select(ITEM.c.package_id).where(ITEM.c.target == name, ITEM.c.outcome == "held")
                ),
            )
            .order_by(D.c.id)
            .limit(limit)
        ).all()
    return [(r.package_id, r.raw_sha256) for r in rows]


def refresh(cfg: NodeConfig, store: Store, name: str) -> dict[str, int]:
    """Ask target ``name`` again about its held lines; the outcomes they have now."""
    todo = held_packages(store, name)
    if not todo:
        return {}
    t = cfg.forward[name]
    trust = trust_store(cfg)
    out: dict[str, int] = {}
    with open_target(cfg, name) as adapter:
        for pid, sha in todo:
            body = adapter.status(pid, sha)
            if body is None:
                continue
            now = datetime.now(UTC)
            try:
                receipt, _ = verify(
                    body, f"status of {pid}", trust, now=now, issuer=t.receiver, package_id=pid
                )
            except HubError:
                continue  # an answer that does not verify changes nothing
            for k, v in record_verdicts(store, name, receipt, now).items():
                out[k] = out.get(k, 0) + v
    return out
