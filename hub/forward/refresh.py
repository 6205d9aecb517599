"""Answers that come after the pass that sent a package, asked for at the end of each pass
(``Adapter.status``), verified as any receipt, their verdicts kept beside what was sent.

- **Receipts that come later.**  A target reached through a folder (files, SFTP) answers
  nothing when a package is dropped: the node that takes the drop leaves its signed receipt
  beside it (``receipts/PACKAGE_ID.receipt``).  The forwarder looks for the receipts of the
  packages delivered without one, the newest 20 first; a receipt found is kept on the
  delivery (a refusal makes it ``refused``).
- **Held, asked about again.**  A record the target holds may have been placed since (its
  parent arrived, perhaps from another sender) or quarantined (its hold expired).  For a
  hub, ``GET /v1/packages/{id}/status`` answers the receipt as things stand now; a target
  that cannot say keeps its lines held.  A few packages per pass, the oldest first, so a
  long backlog costs each pass little.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import and_, exists, select, update

from hub.config import NodeConfig
from hub.errors import HubError, InputError
from hub.forward.deliver import D
from hub.forward.verdicts import record_verdicts
from hub.package.node import trust_store
from hub.package.receipt import Receipt, verify
from hub.sources import open_target
from hub.store import audit
from hub.store.engine import Store
from hub.store.models import ForwardItem, table

ITEM = table(ForwardItem)
log = logging.getLogger(__name__)
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


def awaiting_receipts(store: Store, name: str, limit: int = PER_PASS) -> list[tuple[str, str]]:
    """(package id, archive SHA-256) of the packages delivered to ``name`` without a receipt
    whose lines have no verdict yet (a peer that answers record by record has given them),
    the newest first."""
    no_verdict = exists().where(
        and_(ITEM.c.target == name, ITEM.c.package_id == D.c.package_id, ITEM.c.outcome.is_(None))
    )
    with store.read() as conn:
        rows = conn.execute(
            select(D.c.package_id, D.c.raw_sha256)
            .where(D.c.target == name, D.c.status == "delivered", D.c.receipt.is_(None))
            .where(no_verdict)
            .order_by(D.c.id.desc())
            .limit(limit)
        ).all()
    return [(r.package_id, r.raw_sha256) for r in rows]


@dataclass
class Later:
    """What a pass learnt after its pushes: verdicts of receipts that came later, and the
    outcomes held lines have now."""

    answered: dict[str, int] = field(default_factory=dict)
    refreshed: dict[str, int] = field(default_factory=dict)


def refresh(cfg: NodeConfig, store: Store, name: str) -> Later:
    """Look for the receipts target ``name`` has left since, and ask it again about its held
    lines."""
    later = Later()
    awaiting, held = awaiting_receipts(store, name), held_packages(store, name)
    if not awaiting and not held:
        return later
    t = cfg.forward[name]
    trust = trust_store(cfg)
    with open_target(cfg, name) as adapter:
        for todo, into, first in ((awaiting, later.answered, True), (held, later.refreshed, False)):
            for pid, sha in todo:
                body = adapter.status(pid, sha)
                if body is None:
                    continue
                now = datetime.now(UTC)
                try:
                    where = f"receipt of {pid}"
                    receipt, _ = verify(body, where, trust, now=now, issuer=t.receiver)
                    answers(receipt, pid, sha)
                except HubError as exc:  # an answer that does not verify changes nothing
                    log.warning("%s: the receipt of %s is not believed: %s", name, pid, exc)
                    continue
                if first:
                    _keep(store, name, pid, body, receipt)
                for k, v in record_verdicts(store, name, receipt, now, pid).items():
                    into[k] = into.get(k, 0) + v
    return later


def answers(receipt: Receipt, pid: str, sha: str) -> None:
    """Raise unless ``receipt`` answers package ``pid`` (archive ``sha``): by its id, or, for
    a refusal (the id of a package that failed its checks is only claimed), by its digest."""
    refusal = receipt.status == "refused" and receipt.package_id is None
    if receipt.package_id == pid or (refusal and receipt.package_sha256 == sha):
        return
    raise InputError(
        f"receipt of {pid}",
        f"the receipt is for package {receipt.package_id or receipt.package_sha256[:12]!r}, "
        f"not {pid!r}",
        code="receipt.package",
    )


def _keep(store: Store, name: str, pid: str, body: bytes, receipt: Receipt) -> None:
    """A receipt that came later, on its delivery, as one in a reply would be."""
    refused = receipt.status == "refused"
    why = f"{receipt.refusal.code}: {receipt.refusal.message}" if receipt.refusal else None
    with store.write() as conn:
        conn.execute(
            update(D)
            .where(D.c.target == name, D.c.package_id == pid, D.c.receipt.is_(None))
            .values(
                receipt=body,
                status="refused" if refused else "delivered",
                last_error=why if refused else None,
                updated_at=datetime.now(UTC),
            )
        )
        audit.append(conn, "hub", "delivery.receipt", pid, {"target": name, "refused": refused})
