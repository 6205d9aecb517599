"""Signing in to the console: sessions, CSRF tokens and login throttling.

- A session is a random 256-bit id in an HttpOnly, SameSite=Strict cookie (Secure unless
  [console].secure_cookies is false); the store keeps only its SHA-256, with the user and an
  expiry, so signing out, disabling the user or reaching [console].session_hours ends it.
- Every form carries the session's CSRF token; a POST without the right one is refused.
- After [console].max_failures failed sign-ins for one name, or from one address, within
  [console].lockout_minutes, sign-in answers 429 until the window has passed: the password
  is not even checked, so guessing gets nowhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, insert, select

from hub.access import users
from hub.config import NodeConfig
from hub.store import audit
from hub.store.engine import Store
from hub.store.models import LoginFailure, User, WebSession, table

S, F, U = table(WebSession), table(LoginFailure), table(User)
COOKIE = "hub_session"


@dataclass(frozen=True)
class Session:
    user: users.Who
    csrf: str


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def locked_for(store: Store, cfg: NodeConfig, name: str, addr: str) -> float:
    """Seconds until sign-in is allowed again for this name or address (0: now)."""
    now = datetime.now(UTC)
    since = now - timedelta(minutes=cfg.console.lockout_minutes)
    worst = 0.0
    with store.read() as conn:
        for key in (f"name:{name}", f"addr:{addr}"):
            n, first = conn.execute(
                select(func.count(), func.min(F.c.at)).where(F.c.key == key, F.c.at >= since)
            ).one()
            if n >= cfg.console.max_failures and first is not None:
                first = first if first.tzinfo else first.replace(tzinfo=UTC)
                until = first + timedelta(minutes=cfg.console.lockout_minutes)
                worst = max(worst, (until - now).total_seconds())
    return worst


def sign_in(store: Store, cfg: NodeConfig, name: str, password: str, addr: str) -> str | None:
    """A new session id for the right name and password; None (and a failure counted)."""
    who = users.by_password(store, name, password)
    now = datetime.now(UTC)
    with store.write() as conn:
        if who is None:
            conn.execute(insert(F), [{"key": f"name:{name[:150]}", "at": now},
                                     {"key": f"addr:{addr}", "at": now}])  # fmt: skip
            return None
        conn.execute(delete(F).where(F.c.key == f"name:{name}"))
        sid = secrets.token_urlsafe(32)
        conn.execute(
            insert(S).values(
                id_sha256=_digest(sid),
                user_id=who.id,
                csrf=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + timedelta(hours=cfg.console.session_hours),
            )
        )
        conn.execute(delete(S).where(S.c.expires_at < now))  # tidy the expired ones
        audit.append(conn, f"console:{who.name}", "console.sign_in", who.name, {"addr": addr})
    return sid


def session(store: Store, sid: str | None) -> Session | None:
    """The live session with this id: unexpired, of an enabled user."""
    if not sid:
        return None
    with store.read() as conn:
        row = conn.execute(
            select(U.c.id, U.c.name, U.c.role, U.c.platform_code, S.c.csrf, S.c.expires_at)
            .join(S, S.c.user_id == U.c.id)
            .where(S.c.id_sha256 == _digest(sid), U.c.disabled.is_(False))
        ).first()
    if row is None:
        return None
    ends = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if ends <= datetime.now(UTC):
        return None
    return Session(users.Who(row.id, row.name, row.role, row.platform_code), row.csrf)


def sign_out(store: Store, sid: str, who: users.Who) -> None:
    with store.write() as conn:
        conn.execute(delete(S).where(S.c.id_sha256 == _digest(sid)))
        audit.append(conn, f"console:{who.name}", "console.sign_out", who.name, {})


def csrf_ok(s: Session, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(s.csrf, sent)
