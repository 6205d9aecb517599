"""Deliver signed packages upstream (design §2 step 8) and keep what came back.

The package bytes go into the raw store first.  The upstream adapter pushes them with its own
bounded retries; the outcome is one ``delivery`` row: ``delivered`` with the peer's receipt,
``refused`` with the peer's signed refusal, or ``dead`` when the retries ran out: a
dead-letter entry that ``hub package deliveries --dead`` lists and ``hub package redrive``
sends again.  A package already delivered is not sent twice.  A package the forwarder built
for a target (``[forward.NAME]``) is ``pending`` from the commit that built it until it is
pushed, so a process that dies in between leaves it to the next pass.  A target with
``encrypt_to`` gets the package sealed to those certificates (``PACKAGE_ID.p7m``); the raw
store keeps the signed archive, which is what the receipt names.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, select, update

from hub.config import NodeConfig
from hub.errors import HubError, InputError, RetryableError, UsageError
from hub.interfaces import Adapter, LineAnswer
from hub.package import archive, manifest
from hub.package.envelope import ENVELOPE_SUFFIX, seal
from hub.package.node import recipients, trust_store
from hub.package.receipt import Receipt
from hub.package.receipt import verify as verify_receipt
from hub.sources import open_target, open_upstream
from hub.store import audit
from hub.store.engine import Store
from hub.store.models import Delivery, table

D = table(Delivery)


@dataclass
class DeliveryResult:
    id: int
    package_id: str
    status: str  # delivered, refused, dead, already
    attempts: int
    receipt: bytes | None
    error: str | None
    answers: list[LineAnswer] | None = None  # a peer that answers per record, unsigned
    verified: Receipt | None = None  # the receipt, checked as the target's for this package

    def as_dict(self) -> dict[str, object]:
        return {
            "delivery": self.id,
            "package_id": self.package_id,
            "status": self.status,
            "attempts": self.attempts,
            "error": self.error,
            "receipt_bytes": len(self.receipt or b""),
        }


def package_id_of(data: bytes, origin: str = "package") -> str:
    """The package id from the manifest (InputError if it is not a package archive)."""
    files = dict(archive.read(data, origin))
    if "manifest.json" not in files:
        raise InputError(
            origin, "has no manifest.json; expected a signed package", code="archive.manifest"
        )
    return manifest.parse(files["manifest.json"], origin).package_id


def its_receipt(
    cfg: NodeConfig, receiver: str, pid: str, receipt: bytes
) -> tuple[Receipt | None, str | None]:
    """``receipt`` as the target's signed answer to package ``pid``, or why it is not one.
    A 200 whose body is another package's receipt, or no receipt, does not deliver."""
    try:
        got, _ = verify_receipt(
            receipt,
            f"receipt of {pid}",
            trust_store(cfg),
            now=datetime.now(UTC),
            issuer=receiver,
            package_id=pid,
        )
    except InputError as exc:
        return None, (
            f"the answer to {pid} is not its receipt ({exc.code}: {exc.reason}); the package "
            "stays to be sent again (hub forward run, or the next pass)"
        )
    return got, None


def push_package(cfg: NodeConfig, store: Store, data: bytes, name: str) -> DeliveryResult:
    pid = package_id_of(data)
    with store.read() as conn:
        done = conn.execute(
            select(D).where(D.c.package_id == pid, D.c.status == "delivered")
        ).first()
    if done is not None:
        return DeliveryResult(done.id, pid, "already", done.attempts, done.receipt, None)
    sha, _size = store.raw.put_stream(io.BytesIO(data))
    return _deliver(cfg, store, pid, sha, data, name, None)


def redrive(cfg: NodeConfig, store: Store, delivery_id: int) -> DeliveryResult:
    with store.read() as conn:
        row = conn.execute(select(D).where(D.c.id == delivery_id)).first()
    if row is None or row.status != "dead":
        raise UsageError(f"delivery {delivery_id} is not a dead-letter entry")
    return send_again(cfg, store, row)


def send_again(cfg: NodeConfig, store: Store, row: Row[Any]) -> DeliveryResult:
    """Push the package of delivery ``row`` (dead or pending) again, to where it was going."""
    with store.raw.open(row.raw_sha256) as fh:
        data = fh.read()
    return _deliver(cfg, store, row.package_id, row.raw_sha256, data, f"{row.package_id}.zip", row)


def _adapter(cfg: NodeConfig, previous: Row[Any] | None) -> Adapter:
    target = previous.target if previous is not None else None
    return open_target(cfg, target) if target else open_upstream(cfg)


def _deliver(
    cfg: NodeConfig,
    store: Store,
    pid: str,
    sha: str,
    data: bytes,
    name: str,
    previous: Row[Any] | None,
) -> DeliveryResult:
    now = datetime.now(UTC)
    error: str | None = None
    receipt: bytes | None = None
    answers: list[LineAnswer] | None = None
    attempts = 0
    tname = previous.target if previous is not None else None
    target = cfg.forward.get(tname) if tname else None
    if target is not None and target.encrypt_to:  # sealed afresh for each push
        certs = recipients(target.encrypt_to, f"[forward.{tname}] encrypt_to")
        data, name = seal(data, certs), f"{pid}{ENVELOPE_SUFFIX}"
    with _adapter(cfg, previous) as adapter:
        peer = str(getattr(adapter.options, "url", "") or adapter.name)
        try:
            r = adapter.push(name, data)
            status = "delivered" if r.delivered else "refused"
            receipt, attempts, answers = r.receipt, r.attempts, r.answers
            error = None if r.delivered else r.detail
        except RetryableError as exc:
            status, error = "dead", str(exc)
            attempts = 1 if exc.attempts is None else exc.attempts
        except HubError as exc:
            status, error = "dead", str(exc)
            attempts = 1
    verified = None
    if target is not None and receipt is not None and status in ("delivered", "refused"):
        verified, problem = its_receipt(cfg, target.receiver, pid, receipt)
        if problem:  # not an answer to this package: it may never have been stored
            status, error = "dead", problem
    values: dict[str, Any] = {
        "status": status,
        "attempts": attempts,
        "last_error": error,
        "receipt": receipt,
        "updated_at": datetime.now(UTC),
    }
    with store.write() as conn:
        if previous is not None:
            did = int(previous.id)
            values["attempts"] = D.c.attempts + attempts
            conn.execute(update(D).where(D.c.id == did).values(values))
        else:
            did = conn.execute(
                D.insert().returning(D.c.id),
                {"package_id": pid, "peer": peer[:500], "raw_sha256": sha, "created_at": now}
                | values,
            ).scalar_one()
        audit.append(conn, "hub", f"delivery.{status}", pid, {"delivery": did, "error": error})
    return DeliveryResult(did, pid, status, attempts, receipt, error, answers, verified)
