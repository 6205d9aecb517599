"""One forwarding pass for one target: packages left pending or dead first, then the outbox.

A pass holds the target's lease (one process at a time per target), respects its circuit
breaker, and stops at the first package that could not be delivered (the rest waits for
the next pass, in order).  Each package is built, stored in the raw store and written down
(its delivery row ``pending``, what it carries in ``forward_item``) in one transaction
before it is pushed; the target's runs are marked looked-at only when all their changes
are in packages.  The receipt that comes back is verified with the node's trust store and
its per-record verdicts are kept beside what was sent, for the chain back down.
"""

from __future__ import annotations

import io
import logging
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Row, func, select

from hub.config import NodeConfig
from hub.errors import ConfigError, HubError
from hub.forward import outbox, target
from hub.forward.deliver import D, DeliveryResult, send_again
from hub.forward.refresh import refresh
from hub.forward.verdicts import ITEM_COLS, NO_VERDICT, record_answers, record_verdicts
from hub.package.build import build
from hub.package.node import identity
from hub.store import audit
from hub.store.bulk import Bulk
from hub.store.engine import Store
from hub.store.lease import holder_id
from hub.store.upsert import analyze_when_unknown, insert_ignore
from hub.suggest import did_you_mean

ITEM, FRUN = outbox.ITEM, outbox.FRUN


log = logging.getLogger("hub.forward")


@dataclass
class Sent:
    package_id: str
    delivery: int
    status: str  # delivered, refused, dead
    records: int
    verdicts: dict[str, int] = field(default_factory=dict)  # the target's outcomes
    error: str | None = None


@dataclass
class Pass:
    target: str
    status: str  # done, busy (another process), open (breaker), stopped (a package failed)
    runs: int = 0
    ops: dict[str, int] = field(default_factory=dict)  # add / modify / delete sent
    packages: list[Sent] = field(default_factory=list)
    error: str | None = None
    refreshed: dict[str, int] = field(default_factory=dict)  # held lines asked about again
    answered: dict[str, int] = field(default_factory=dict)  # verdicts of receipts that came later

    def as_dict(self) -> dict[str, object]:
        return {
            "target": self.target,
            "status": self.status,
            "runs": self.runs,
            "ops": self.ops,
            "packages": [p.__dict__ for p in self.packages],
            "error": self.error,
            "refreshed": self.refreshed,
            "answered": self.answered,
        }


def forward(
    cfg: NodeConfig, store: Store, name: str, *, who: str | None = None, now: datetime | None = None
) -> Pass:
    if name not in cfg.forward:
        raise ConfigError(did_you_mean(name, cfg.forward, "forwarding target"))
    who = who or holder_id()
    now = now or datetime.now(UTC)
    if not target.claim(store, name, who, now):
        return Pass(name, "busy")
    try:
        return _pass(cfg, store, name, who)
    finally:
        target.release(store, name, who)


def _pass(cfg: NodeConfig, store: Store, name: str, who: str) -> Pass:
    t = cfg.forward[name]
    st = target.state(store, name)
    if st.open_at(datetime.now(UTC)):
        return Pass(name, "open", error=st.last_error)
    done = Pass(name, "done")
    with store.read() as conn:
        left = conn.execute(
            select(D)
            .where(D.c.target == name, D.c.status.in_(("pending", "dead")))
            .order_by(D.c.id)
        ).all()
    for row in left:  # what a dead process or a down target left, in order
        target.claim(store, name, who, datetime.now(UTC))
        sent = _push(cfg, store, name, row, _count(store, name, row))
        done.packages.append(sent)
        if sent.status == "dead":
            return _stopped(done, sent)
    with store.read() as conn:
        runs = outbox.pending_runs(conn, name)
        todo = outbox.changes(conn, name, runs, t.datasets)  # and resolved conflicts
    done.runs = len(runs)
    done.ops = dict(Counter(c.op for c in todo))
    packages: list[str] = []
    # the next package is built while the target takes the last one (a thread pushes it);
    # packages go one at a time, in order; a package's receipt is checked and its verdicts
    # stored once the next one is on its way
    with ThreadPoolExecutor(1, thread_name_prefix=f"forward-{name}") as pusher:
        flight: tuple[Future[DeliveryResult], int] | None = None
        for i in range(0, len(todo), t.max_records):
            target.claim(store, name, who, datetime.now(UTC))
            row, count = _package(cfg, store, name, todo[i : i + t.max_records])
            packages.append(row.package_id)
            if flight is not None and flight[0].result().status == "dead":
                done.packages.append(_settle(cfg, store, name, flight[0].result(), flight[1]))
                return _stopped(done, done.packages[-1])  # the one just built waits, pending
            last, flight = flight, (pusher.submit(send_again, cfg, store, row), count)
            if last is not None:  # settled while the next one is on its way
                done.packages.append(_settle(cfg, store, name, last[0].result(), last[1]))
        if flight is not None:
            done.packages.append(_settle(cfg, store, name, flight[0].result(), flight[1]))
            if done.packages[-1].status == "dead":
                return _stopped(done, done.packages[-1])
    if runs:
        _looked_at(store, name, runs, packages)
    try:
        later = refresh(cfg, store, name)
        done.answered, done.refreshed = later.answered, later.refreshed
    except HubError as exc:  # the pass delivered what it had: a failed question waits
        log.warning("looking for %s's receipts since failed: %s", name, exc)
    return done


def _push(cfg: NodeConfig, store: Store, name: str, row: Row[object], count: int) -> Sent:
    return _settle(cfg, store, name, send_again(cfg, store, row), count)


def _stopped(p: Pass, sent: Sent) -> Pass:
    p.status, p.error = "stopped", sent.error
    return p


def _count(store: Store, name: str, row: Row[object]) -> int:
    with store.read() as conn:
        q = select(func.count()).where(ITEM.c.target == name, ITEM.c.package_id == row.package_id)
        return int(conn.execute(q).scalar() or 0)


def _package(
    cfg: NodeConfig, store: Store, name: str, batch: list[outbox.Change]
) -> tuple[Row[object], int]:
    """Build, sign and store one package of ``batch``, and write down what it carries, in
    one transaction: from here on it is the target's, pending until pushed."""
    t = cfg.forward[name]
    now = datetime.now(UTC)
    lines: dict[str, list[bytes]] = {}
    items: list[list[object]] = []  # ITEM_COLS; the package id once it is built
    with store.read() as conn:
        # the target's packages so far, plus one: the receiver sees a gap if one never
        # arrives (a forwarder works a target alone: its lease)
        sequence = 1 + int(
            conn.execute(select(func.count()).select_from(D).where(D.c.target == name)).scalar()
            or 0
        )
        for c, line in outbox.envelopes(conn, batch):
            lines.setdefault(c.dataset, []).append(line)
            n = len(lines[c.dataset])
            items.append([name, c.dataset, c.business_key, c.op, c.content_hash, c.version_id])
            items[-1] += [None, n, now, *NO_VERDICT]
    m, data = build(lines, identity(cfg), t.receiver, sequence=sequence)
    sha, _ = store.raw.put_stream(io.BytesIO(data))
    peer = str(
        t.options.get("url") or t.options.get("outbox") or t.options.get("host") or t.adapter
    )
    with store.write() as conn:
        db = Bulk(conn)
        when = db.when(now)
        for it in items:
            it[6], it[8] = m.package_id, when
        db.upsert("forward_item", ITEM_COLS, items, ITEM_COLS[:3])
        analyze_when_unknown(conn, ITEM, len(items))  # the verdicts find them by index
        did = conn.execute(
            D.insert().returning(D.c.id),
            {
                "package_id": m.package_id,
                "peer": peer[:500],
                "target": name,
                "raw_sha256": sha,
                "status": "pending",
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            },
        ).scalar_one()
        audit.append(
            conn, "hub", "forward.package", m.package_id, {"target": name, "records": len(items)}
        )
        row = conn.execute(select(D).where(D.c.id == did)).one()
    return row, len(items)


def _settle(cfg: NodeConfig, store: Store, name: str, r: DeliveryResult, records: int) -> Sent:
    """The breaker learns the outcome; a receipt's verdicts go beside what was sent."""
    now = datetime.now(UTC)
    t = cfg.forward[name]
    sent = Sent(r.package_id, r.id, r.status, records, error=r.error)
    receipt = r.verified  # checked by the delivery: the target's, for this package
    if receipt is not None:
        sent.verdicts = record_verdicts(store, name, receipt, now)
    elif r.answers is not None:  # a peer that answers record by record, signing nothing
        sent.verdicts = record_answers(store, name, r.package_id, r.answers, now)
    target.record(store, t, name, r.status != "dead", now, sent.error)
    return sent


def _looked_at(store: Store, name: str, runs: list[int], packages: list[str]) -> None:
    now = datetime.now(UTC)
    last = packages[-1] if packages else None
    with store.write() as conn:
        insert_ignore(
            conn, FRUN, [{"target": name, "run_id": r, "package_id": last, "at": now} for r in runs]
        )
        target.prune_runs(conn, name, now)
