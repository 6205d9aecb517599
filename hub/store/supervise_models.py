"""The tables of supervision: findings of the rule packs, and how far evaluation has come.
Migration 0009."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import KEY_LEN, Base, BigId


class Finding(Base):
    """A rule of a pack broken by a record (``end``), with the record it was measured from
    (``start``; the same one for a rule within one record) and the evidence."""

    __tablename__ = "finding"
    __table_args__ = (
        UniqueConstraint(
            "rule", "dataset", "business_key", "other_dataset", "other_key", name="uq_finding"
        ),
        Index("ix_finding_status", "status", "id"),
        Index("ix_finding_record", "dataset", "business_key"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    pack: Mapped[str] = mapped_column(String(64))
    rule: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    dataset: Mapped[str] = mapped_column(String(64))
    business_key: Mapped[str] = mapped_column(String(KEY_LEN))
    other_dataset: Mapped[str] = mapped_column(String(64))
    other_key: Mapped[str] = mapped_column(String(KEY_LEN))
    source: Mapped[str] = mapped_column(String(100))  # who sent the breaking record
    event_day: Mapped[date | None] = mapped_column(Date)
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)  # JSON
    status: Mapped[str] = mapped_column(String(16))  # open, reviewed, cleared
    found_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)


class SuperviseCursor(Base):
    """The last run whose records the packs were evaluated against."""

    __tablename__ = "supervise_cursor"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_id: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
