"""Where each forwarding target stands: breaker, backlog, packages, and the verdicts it gave.
Pure reading, for `hub forward status`, the API and the console."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from hub.config import NodeConfig
from hub.forward import outbox, target
from hub.forward.deliver import D
from hub.store.engine import Store, utc

ITEM = outbox.ITEM


def targets(cfg: NodeConfig, store: Store) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    out: list[dict[str, Any]] = []
    for name, t in sorted(cfg.forward.items()):
        st = target.state(store, name)
        with store.read() as conn:
            packages: dict[str, int] = dict(
                conn.execute(
                    select(D.c.status, func.count()).where(D.c.target == name).group_by(D.c.status)
                ).all()
            )
            verdicts: dict[str, int] = dict(
                conn.execute(
                    select(func.coalesce(ITEM.c.outcome, "waiting"), func.count())
                    .where(ITEM.c.target == name)
                    .group_by(func.coalesce(ITEM.c.outcome, "waiting"))
                ).all()
            )
            last = conn.execute(
                select(func.max(D.c.updated_at)).where(
                    D.c.target == name, D.c.status == "delivered"
                )
            ).scalar()
            backlog = outbox.backlog(conn, name)
        out.append(
            {
                "target": name,
                "receiver": t.receiver,
                "adapter": t.adapter,
                "datasets": list(t.datasets) or "all",
                "breaker": "open"
                if st.open_at(now)
                else ("closed" if not st.failures else "failing"),
                "open_until": st.open_until.isoformat()
                if st.open_at(now) and st.open_until
                else None,
                "failures": st.failures,
                "last_error": st.last_error,
                "runs_waiting": backlog,
                "packages": {str(k): int(v) for k, v in packages.items()},
                "records": {str(k): int(v) for k, v in verdicts.items()},
                "last_delivered": _iso(utc(last)),
            }
        )
    return out


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def deliveries(store: Store, limit: int = 30) -> list[dict[str, Any]]:
    """The newest packages sent upstream (by a forwarding pass or by hand), newest first."""
    with store.read() as conn:
        rows = conn.execute(
            select(
                D.c.id,
                D.c.package_id,
                D.c.target,
                D.c.peer,
                D.c.status,
                D.c.attempts,
                D.c.last_error,
                D.c.created_at,
                D.c.updated_at,
            )
            .order_by(D.c.id.desc())
            .limit(limit)
        ).all()
    return [dict(r._mapping) for r in rows]
