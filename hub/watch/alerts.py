"""Alerts: conditions the node finds by looking at itself, kept with a "seen" flag.

``check`` compares what holds now with the open alerts: a new condition opens an alert, one
that holds at another level (a certificate crossing from 30 to 7 days) closes the old and
opens a new one, so it is unseen again; a condition that ended is cleared.  ``hub serve``
checks every [alerts].check_seconds; ``hub alerts check`` does it by hand.  New alerts are
posted to [alerts].webhook when one is set (``notify``).

Kinds: cert.expiry (this node's signing certificate, each trust anchor, each CRL's next
update; at each of [alerts].expiry_days, and when expired), source.late, source.failing,
schedule.paused (paused after repeated failures), upstream.unreachable (the newest delivery
upstream ran out of retries), deliveries.dead (dead letters waiting to be re-driven).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from hub.config import NodeConfig
from hub.errors import HubError
from hub.store import audit
from hub.store.engine import Store, utc
from hub.store.models import Alert, Delivery, table

log = logging.getLogger("hub.watch")
A, D = table(Alert), table(Delivery)
SEVERE = ("critical", "expired", "1d")


@dataclass(frozen=True)
class Condition:
    kind: str
    subject: str
    level: str
    message: str


def expiry_level(left_days: float, steps: tuple[int, ...]) -> str | None:
    """'expired', or the smallest of ``steps`` (days) that ``left_days`` is within."""
    if left_days <= 0:
        return "expired"
    within = [d for d in steps if left_days <= d]
    return f"{min(within)}d" if within else None


def steps_for(span: float | None, steps: tuple[int, ...]) -> tuple[int, ...]:
    """A CRL is reissued well before its next update: only the steps shorter than its whole
    validity count (a fresh 30-day CRL is not "30 days from expiry")."""
    return tuple(d for d in steps if span is None or d < span)


def certificates(cfg: NodeConfig) -> Iterator[tuple[str, datetime, float | None]]:
    """(what, when it ends, for a CRL: its whole validity in days) for the signing
    certificate, trust anchors and CRLs."""
    from hub.package.node import identity, trust_store  # noqa: PLC0415

    signing = None
    with contextlib.suppress(HubError):  # no signing key configured: nothing to watch
        signing = identity(cfg).cert.not_after
    if signing is not None:
        yield "signing certificate", signing, None
    try:
        trust = trust_store(cfg)
    except HubError:
        return
    for c in trust.anchors:
        yield f"CA {c.name}", c.not_after, None
    for crl in trust.crls:
        if crl.next_update is not None:
            span = (crl.next_update - crl.this_update).total_seconds() / 86400
            yield (
                f"CRL #{trust.crls.index(crl) + 1} ({crl.this_update:%Y-%m-%d})",
                crl.next_update,
                span,
            )


def conditions(cfg: NodeConfig, store: Store, now: datetime) -> list[Condition]:
    """Everything that is wrong now."""
    out = []
    for what, ends, span in certificates(cfg):
        left = (ends - now).total_seconds() / 86400
        level = expiry_level(left, steps_for(span, cfg.alerts.expiry_days))
        if level is not None:
            said = "has expired" if level == "expired" else f"expires in {left:.1f} days"
            out.append(
                Condition(
                    "cert.expiry",
                    what,
                    level,
                    f"{what} {said} ({ends:%Y-%m-%d %H:%M} UTC); renew it and replace the "
                    "file [signing]/[trust] names",
                )
            )
    if cfg.schedules:
        from hub.schedule.scheduler import statuses  # noqa: PLC0415

        for s in statuses(cfg, store, now):
            if s.freshness in ("late", "failing"):
                last = f"{s.last_success:%Y-%m-%d %H:%M} UTC" if s.last_success else "never"
                out.append(
                    Condition(
                        f"source.{s.freshness}",
                        s.source,
                        "critical" if s.freshness == "failing" else "warning",
                        f"source {s.source} ({s.name}, {s.when}) is {s.freshness}: last "
                        f"success {last}; `hub schedule events {s.name}` shows why",
                    )
                )
            if s.paused and s.paused_reason and s.paused_reason.startswith("paused after"):
                out.append(
                    Condition(
                        "schedule.paused",
                        s.name,
                        "critical",
                        f"schedule {s.name} was paused by the hub: {s.paused_reason[:300]}; "
                        f"fix the cause, then `hub schedule resume {s.name}`",
                    )
                )
    out += _upstream(store)
    return out


def _upstream(store: Store) -> list[Condition]:
    with store.read() as conn:
        dead = conn.execute(select(func.count()).where(D.c.status == "dead")).scalar() or 0
        newest = conn.execute(
            select(D.c.peer, D.c.status, D.c.last_error).order_by(D.c.id.desc()).limit(1)
        ).first()
    out = []
    if newest is not None and newest.status == "dead":
        out.append(
            Condition(
                "upstream.unreachable",
                newest.peer,
                "critical",
                f"the upstream {newest.peer} did not take the newest package: "
                f"{(newest.last_error or '')[:300]}",
            )
        )
    if dead:
        out.append(
            Condition(
                "deliveries.dead",
                "upstream",
                "warning",
                f"{dead} package(s) could not be delivered upstream; `hub package deliveries "
                "--dead` lists them and `hub package redrive` sends them again",
            )
        )
    return out


def check(cfg: NodeConfig, store: Store, now: datetime | None = None) -> list[int]:
    """Open, renew and clear alerts to match what holds now; the ids of the new ones."""
    now = now or datetime.now(UTC)
    found = {(c.kind, c.subject): c for c in conditions(cfg, store, now)}
    opened = []
    with store.write() as conn:
        live = conn.execute(
            select(A.c.id, A.c.kind, A.c.subject, A.c.level).where(A.c.cleared_at.is_(None))
        ).all()
        for row in live:
            c = found.get((row.kind, row.subject))
            if c is not None and c.level == row.level:
                conn.execute(
                    update(A).where(A.c.id == row.id).values(last_at=now, message=c.message)
                )
                del found[(row.kind, row.subject)]
            else:  # ended, or holds at another level (opened anew below)
                conn.execute(update(A).where(A.c.id == row.id).values(cleared_at=now))
        for c in found.values():
            opened.append(
                conn.execute(
                    insert(A).values(
                        kind=c.kind,
                        subject=c.subject[:500],
                        level=c.level,
                        message=c.message,
                        opened_at=now,
                        last_at=now,
                        notified=False,
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
    return opened


def listing(store: Store, *, everything: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """Open alerts, unseen and most severe first; ``everything``: cleared ones too, newest first."""
    q = select(A)
    if not everything:
        q = q.where(A.c.cleared_at.is_(None)).order_by(
            A.c.seen_at.is_not(None), A.c.level.not_in(SEVERE), A.c.id.desc()
        )
    else:
        q = q.order_by(A.c.id.desc())
    with store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(q.limit(limit))]
    for r in rows:
        for k in ("opened_at", "last_at", "cleared_at", "seen_at"):
            r[k] = utc(r[k])
    return rows


def mark_seen(store: Store, ids: list[int], actor: str) -> int:
    """Mark alerts seen (an audit entry each); how many were unseen."""
    now = datetime.now(UTC)
    with store.write() as conn:
        fresh = (
            conn.execute(select(A.c.id).where(A.c.id.in_(ids), A.c.seen_at.is_(None)))
            .scalars()
            .all()
        )
        if fresh:
            conn.execute(update(A).where(A.c.id.in_(fresh)).values(seen_at=now, seen_by=actor))
        for i in fresh:
            audit.append(conn, actor, "alert.seen", str(i), {})
    return len(fresh)


def unseen(store: Store) -> int:
    with store.read() as conn:
        q = select(func.count()).where(A.c.cleared_at.is_(None), A.c.seen_at.is_(None))
        return int(conn.execute(q).scalar() or 0)
