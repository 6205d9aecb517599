"""The store's tables (SQLAlchemy 2.0 typed models).  Alembic migrations in ``migrations/``.

Versions are immutable: nothing updates or deletes a ``record_version`` row.  The current
view (``current_record``) and the link index (``record_ref``) are derived from versions and
could be rebuilt from them.  See docs/store.md.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import KEY_LEN, Base, BigId, table


class RawBatch(Base):
    """Raw input bytes, content-addressed; the bytes live in the raw store (raw_dir)."""

    __tablename__ = "raw_batch"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(16))  # xml, json, jsonl, csv, package
    origin: Mapped[str] = mapped_column(String(1000))  # where it was first seen
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SyncRun(Base):
    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_run_started", "started_at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(100), index=True)
    origin: Mapped[str] = mapped_column(String(1000))
    raw_sha256: Mapped[str | None] = mapped_column(ForeignKey("raw_batch.sha256"))
    status: Mapped[str] = mapped_column(String(16))  # running, done, failed, interrupted
    owner: Mapped[str | None] = mapped_column(String(200))  # hub.store.lease.holder_id
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    records_in: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    released: Mapped[int] = mapped_column(Integer, default=0)  # earlier holds released now
    error: Mapped[str | None] = mapped_column(Text)


class RecordVersion(Base):
    """One accepted change of one record: immutable."""

    __tablename__ = "record_version"
    __table_args__ = (
        # also the index for lookups by (dataset, business_key): its prefix
        UniqueConstraint("dataset", "business_key", "content_hash", name="uq_version_content"),
        Index(
            "ix_version_sender_key",
            "sender_key",
            postgresql_where=text("sender_key IS NOT NULL"),
            sqlite_where=text("sender_key IS NOT NULL"),
        ),
        Index("ix_version_run", "run_id"),  # what a run wrote (findings, quality)
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(String(64))
    business_key: Mapped[str] = mapped_column(String(KEY_LEN))
    version_no: Mapped[int] = mapped_column(Integer)  # 1, 2, ... in order of arrival
    op: Mapped[str] = mapped_column(String(8))  # add, modify, delete
    content: Mapped[str] = mapped_column(Text)  # canonical JSON of the fields
    content_hash: Mapped[str] = mapped_column(String(64))
    data_timestamp: Mapped[str] = mapped_column(String(14))
    source: Mapped[str] = mapped_column(String(100))
    sender_key: Mapped[str | None] = mapped_column(String(200))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("package.id"))
    signer: Mapped[str | None] = mapped_column(String(500))
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_run.id"))
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    record_index: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Sighting(Base):
    """The same version seen again from another source (provenance without a new version)."""

    __tablename__ = "sighting"
    version_id: Mapped[int] = mapped_column(ForeignKey("record_version.id"), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_run.id"))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CurrentRecord(Base):
    """The current view: per (data set, key), the winning version.  Derived."""

    __tablename__ = "current_record"
    __table_args__ = (Index("ix_current_library", "library", "dataset"),)
    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    library: Mapped[str] = mapped_column(String(16))
    version_id: Mapped[int] = mapped_column(ForeignKey("record_version.id"))
    data_timestamp: Mapped[str] = mapped_column(String(14))
    content_hash: Mapped[str] = mapped_column(String(64))  # content: in the version row
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    versions: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RecordRef(Base):
    """Link codes of current records (PROJECT_CODE, BID_SECTION_CODE, ...) for lifecycles."""

    __tablename__ = "record_ref"
    __table_args__ = (Index("ix_ref_value", "value"),)
    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    field: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), primary_key=True)


class Conflict(Base):
    """Two contents with the same key and DATA_TIMESTAMP: surfaced, never resolved silently."""

    __tablename__ = "conflict"
    __table_args__ = (UniqueConstraint("dataset", "business_key", "data_timestamp"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dataset: Mapped[str] = mapped_column(String(64))
    business_key: Mapped[str] = mapped_column(String(KEY_LEN))
    data_timestamp: Mapped[str] = mapped_column(String(14))
    status: Mapped[str] = mapped_column(String(16))  # open, resolved
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    version_id: Mapped[int | None] = mapped_column(BigInteger)  # the version taken
    note: Mapped[str | None] = mapped_column(Text)


class EntityClaim(Base):
    """A market entity (credit code + role) as one source reports it."""

    __tablename__ = "entity_claim"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(8), primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(500))
    version_id: Mapped[int] = mapped_column(ForeignKey("record_version.id"))
    data_timestamp: Mapped[str] = mapped_column(String(14))


class IssueRow(Base):
    __tablename__ = "issue"
    __table_args__ = (
        Index("ix_issue_run", "run_id"),
        Index("ix_issue_rule", "rule"),
        Index("ix_issue_source_run", "source", "run_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_run.id"))
    source: Mapped[str] = mapped_column(String(100))
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    record_index: Mapped[int] = mapped_column(Integer)
    dataset: Mapped[str] = mapped_column(String(64))
    business_key: Mapped[str | None] = mapped_column(String(KEY_LEN))
    field: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(16))  # the record's state


class Quarantine(Base):
    """A record the hub could not take as it is; the raw record is kept for replay."""

    __tablename__ = "quarantine"
    __table_args__ = (
        Index("ix_quarantine_status", "status"),
        # the same record of the same raw batch is quarantined once, however often it is sent
        UniqueConstraint("raw_sha256", "record_index", name="uq_quarantine_origin"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_run.id"))
    source: Mapped[str] = mapped_column(String(100))
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    record_index: Mapped[int] = mapped_column(Integer)
    dataset: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    raw_record: Mapped[str] = mapped_column(Text)  # the record as received (JSON or XML)
    raw_format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))  # open, replayed, discarded
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(32))  # outcome of the replay
    note: Mapped[str | None] = mapped_column(Text)  # why it was discarded


class Hold(Base):
    """A valid child record waiting for its parent, until a deadline."""

    __tablename__ = "hold"
    __table_args__ = (
        Index("ix_hold_parent", "parent_dataset", "parent_key", "status"),
        Index("ix_hold_key", "dataset", "business_key", "status"),
        Index("ix_hold_deadline", "status", "deadline"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_run.id"))
    source: Mapped[str] = mapped_column(String(100))
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    record_index: Mapped[int] = mapped_column(Integer)
    dataset: Mapped[str] = mapped_column(String(64))
    business_key: Mapped[str] = mapped_column(String(KEY_LEN))
    parent_dataset: Mapped[str] = mapped_column(String(64))
    parent_key: Mapped[str] = mapped_column(String(KEY_LEN))
    content_hash: Mapped[str] = mapped_column(String(64))  # the same record held twice: one row
    envelope: Mapped[str] = mapped_column(Text)  # canonical JSON: dataset, op, key, record
    status: Mapped[str] = mapped_column(String(16))  # held, released, expired
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SourceCursor(Base):
    __tablename__ = "source_cursor"
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    cursor: Mapped[str] = mapped_column(Text)
    run_id: Mapped[int] = mapped_column(ForeignKey("sync_run.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Hash-chained audit log: hash = SHA-256(prev_hash + canonical entry)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(500))
    detail: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


# the tables of running the node (schedules, users, sessions, alerts) live beside these
from hub.store.attachment_models import RecordAttachment  # noqa: E402
from hub.store.forward_models import ForwardItem, ForwardRun, ForwardTarget  # noqa: E402
from hub.store.ops_models import (  # noqa: E402
    Alert,
    ApiToken,
    LoginFailure,
    ScheduleEvent,
    ScheduleState,
    User,
    WebSession,
)
from hub.store.package_models import Delivery, Package  # noqa: E402
from hub.store.supervise_models import Finding, SuperviseCursor  # noqa: E402
from hub.store.work_models import Leader, WorkItem  # noqa: E402

__all__ = [
    "KEY_LEN",
    "Alert",
    "ApiToken",
    "Base",
    "BigId",
    "Delivery",
    "Finding",
    "ForwardItem",
    "ForwardRun",
    "ForwardTarget",
    "Leader",
    "LoginFailure",
    "Package",
    "RecordAttachment",
    "ScheduleEvent",
    "ScheduleState",
    "SuperviseCursor",
    "User",
    "WebSession",
    "WorkItem",
    "table",
]
