"""Asking a target what became of a package this node sent it: its onward receipt, checked
here (its signature and issuer, and each receipt of the next hop inside it)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from hub.config import NodeConfig, resolve_secret
from hub.errors import ConfigError, InputError, RetryableError, UsageError
from hub.forward.deliver import D
from hub.forward.onward import Onward, verify
from hub.package.node import trust_store
from hub.package.receipt import Receipt
from hub.store.engine import Store


def ask(
    cfg: NodeConfig, store: Store, target: str, package_id: str, timeout: float = 30
) -> tuple[Onward, dict[str, Receipt | InputError], bytes]:
    t = cfg.forward.get(target)
    if t is None:
        raise ConfigError(f"no [forward.{target}] target is configured")
    url = str(t.options.get("url") or "")
    if t.adapter != "http" or not url:
        raise UsageError(
            f"[forward.{target}] is not reached over HTTP: only an http target answers"
        )
    with store.read() as conn:
        sha = conn.execute(
            select(D.c.raw_sha256).where(D.c.package_id == package_id).limit(1)
        ).scalar()
    if sha is None:
        raise UsageError(f"no package {package_id!r} was sent from here (`hub package deliveries`)")
    headers = {"Hub-Package-Sha256": sha}
    if t.options.get("token"):
        token = resolve_secret(str(t.options["token"]), f"[forward.{target}] options.token")
        headers["Authorization"] = f"Bearer {token}"
    try:
        r = httpx.get(
            f"{url.rstrip('/')}/v1/packages/{package_id}/onward", headers=headers, timeout=timeout
        )
    except httpx.TransportError as exc:
        raise RetryableError(f"{url}: {type(exc).__name__}: {exc}") from exc
    if r.status_code != 200:
        raise UsageError(f"{url} answered {r.status_code}: {r.text[:300]}")
    doc, inner = verify(
        r.content,
        f"onward receipt of {package_id}",
        trust_store(cfg),
        now=datetime.now(UTC),
        issuer=t.receiver,
        package_id=package_id,
    )
    return doc, inner, r.content
