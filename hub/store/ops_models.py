"""The tables of running the node: schedules and their events, users, API tokens, console
sessions, failed sign-ins (throttling) and alerts.  Migrations 0006 to 0008."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigId


class ScheduleState(Base):
    """A schedule's ledger row: paused or not, its failures in a row, its last tick and
    success, and the claim that lets one process at a time run it (a lease)."""

    __tablename__ = "schedule_state"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # failed ticks in a row
    last_tick: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_run: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ScheduleEvent(Base):
    """What a schedule did or could not do: ran, failed, tick missed or skipped, paused."""

    __tablename__ = "schedule_event"
    __table_args__ = (Index("ix_schedule_event_name", "name", "id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(32))
    tick: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    detail: Mapped[str] = mapped_column(Text, default="")


class User(Base):
    """Someone who may use the API and the console, with one role (hub/access/roles.py)."""

    __tablename__ = "hub_user"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))  # administrator, operator, observer, county
    platform_code: Mapped[str | None] = mapped_column(String(64))  # a county's own platform
    password_hash: Mapped[str | None] = mapped_column(String(200))  # argon2id
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiToken(Base):
    """A bearer token of a user: only its SHA-256 is kept (the token is shown once)."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("hub_user.id"))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class WebSession(Base):
    """A console session: the cookie holds a random id, the table its SHA-256 only, so a
    stolen database yields no live session; signing out or disabling the user ends it."""

    __tablename__ = "web_session"
    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("hub_user.id"))
    csrf: Mapped[str] = mapped_column(String(64))  # the token every form of the session carries
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginFailure(Base):
    """A failed sign-in, by user name and by address: too many in a window and sign-in waits."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key", "key", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))  # "name:NAME" or "addr:ADDRESS"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Alert(Base):
    """Something an administrator should look at (hub/watch/alerts.py).  One row per kind,
    subject and level while the condition lasts; ``cleared_at`` when it ends."""

    __tablename__ = "alert"
    __table_args__ = (Index("ix_alert_open", "kind", "subject", "cleared_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))  # cert.expiry, source.late, ...
    subject: Mapped[str] = mapped_column(String(500))  # what it is about
    level: Mapped[str] = mapped_column(String(16))  # warning, critical; or 30d/7d/1d
    message: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    seen_by: Mapped[str | None] = mapped_column(String(100))
    notified: Mapped[bool] = mapped_column(Boolean, default=False)  # sent to the webhook
