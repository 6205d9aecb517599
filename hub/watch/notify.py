"""Send new alerts to [alerts].webhook: one JSON POST per alert, marked ``notified`` once the
receiver answered 2xx.  A receiver that is down is tried again at the next check; its
failure is logged, never raised (watching must not stop the node)."""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from datetime import UTC

import orjson
from sqlalchemy import select, update

from hub.config import NodeConfig, resolve_secret
from hub.store.engine import Store, utc
from hub.store.models import Alert, table

log = logging.getLogger("hub.watch")
A = table(Alert)


def notify(cfg: NodeConfig, store: Store, limit: int = 100) -> int:
    """Post alerts not sent yet; how many the webhook took."""
    if not cfg.alerts.webhook:
        return 0
    url = resolve_secret(cfg.alerts.webhook, "[alerts] webhook")
    if not url.startswith(("http://", "https://")):
        log.warning("[alerts] webhook does not resolve to an http(s) URL: nothing sent")
        return 0
    with store.read() as conn:
        rows = conn.execute(
            select(A).where(A.c.notified.is_(False)).order_by(A.c.id).limit(limit)
        ).all()
    sent = 0
    for r in rows:
        body = {
            "node": cfg.node.name,
            "platform_code": cfg.node.platform_code,
            "id": r.id,
            "kind": r.kind,
            "subject": r.subject,
            "level": r.level,
            "message": r.message,
            "opened_at": (utc(r.opened_at) or r.opened_at).astimezone(UTC).isoformat(),
            "cleared": r.cleared_at is not None,
        }
        req = urllib.request.Request(
            url,
            data=orjson.dumps(body),
            headers={"Content-Type": "application/json", "User-Agent": "hub-alerts"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=cfg.alerts.webhook_timeout_seconds) as got:
                ok = 200 <= got.status < 300
        except (urllib.error.URLError, OSError, ValueError) as exc:
            log.warning("alert webhook %s did not take alert %s: %s", url, r.id, exc)
            return sent
        if not ok:
            log.warning("alert webhook answered %s for alert %s", got.status, r.id)
            return sent
        with store.write() as conn:
            conn.execute(update(A).where(A.c.id == r.id).values(notified=True))
        sent += 1
    return sent
