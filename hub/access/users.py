"""Users, passwords (argon2id) and API tokens (random, kept as SHA-256 only)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import insert, select, update

from hub.access.roles import ROLES
from hub.errors import UsageError
from hub.store import audit
from hub.store.engine import Store
from hub.store.models import ApiToken, User, table

USER, TOKEN = table(User), table(ApiToken)
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Who:
    """An authenticated user."""

    id: int
    name: str
    role: str
    platform_code: str | None


def add(
    store: Store, name: str, role: str, password: str | None, platform: str | None, actor: str
) -> None:
    if role not in ROLES:
        raise UsageError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if (role == "county") != bool(platform):
        raise UsageError("a county user needs --platform CODE; other roles take none")
    if password is not None and len(password) < 12:
        raise UsageError("a password has at least 12 characters")
    with store.write() as conn:
        if conn.execute(select(USER.c.id).where(USER.c.name == name)).first():
            raise UsageError(f"user {name!r} exists already")
        conn.execute(
            insert(USER),
            {
                "name": name,
                "role": role,
                "platform_code": platform,
                "password_hash": _hasher.hash(password) if password else None,
                "disabled": False,
                "created_at": datetime.now(UTC),
            },
        )
        audit.append(conn, actor, "user.add", name, {"role": role, "platform": platform})


def listing(store: Store) -> list[dict[str, object]]:
    with store.read() as conn:
        q = select(USER.c.name, USER.c.role, USER.c.platform_code, USER.c.disabled)
        return [dict(r._mapping) for r in conn.execute(q.order_by(USER.c.name))]


def disable(store: Store, name: str, actor: str) -> None:
    with store.write() as conn:
        got = conn.execute(update(USER).where(USER.c.name == name).values(disabled=True))
        if not got.rowcount:
            raise UsageError(f"no user {name!r}; `hub users list` shows them")
        audit.append(conn, actor, "user.disable", name, {})


def new_token(store: Store, name: str, label: str, actor: str) -> str:
    """A new API token for ``name``: returned once, kept as its SHA-256."""
    token = "hub_" + secrets.token_urlsafe(32)
    with store.write() as conn:
        uid = conn.execute(select(USER.c.id).where(USER.c.name == name)).scalar()
        if uid is None:
            raise UsageError(f"no user {name!r}; `hub users list` shows them")
        conn.execute(
            insert(TOKEN),
            {
                "user_id": uid,
                "token_sha256": hashlib.sha256(token.encode()).hexdigest(),
                "label": label,
                "created_at": datetime.now(UTC),
                "revoked": False,
            },
        )
        audit.append(conn, actor, "token.issue", name, {"label": label})
    return token


def by_token(store: Store, token: str) -> Who | None:
    """The enabled user a live token belongs to, or None."""
    digest = hashlib.sha256(token.encode()).hexdigest()
    with store.read() as conn:
        row = conn.execute(
            select(USER.c.id, USER.c.name, USER.c.role, USER.c.platform_code)
            .join(TOKEN, TOKEN.c.user_id == USER.c.id)
            .where(
                TOKEN.c.token_sha256 == digest,
                TOKEN.c.revoked.is_(False),
                USER.c.disabled.is_(False),
            )
        ).first()
    return Who(row.id, row.name, row.role, row.platform_code) if row else None


def by_password(store: Store, name: str, password: str) -> Who | None:
    with store.read() as conn:
        row = conn.execute(select(USER).where(USER.c.name == name)).first()
    if row is None or row.disabled or not row.password_hash:
        _hasher.hash(password)  # the same work either way: no timing hint that the name exists
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except VerificationError:
        return None
    return Who(row.id, row.name, row.role, row.platform_code)
