"""The tables of forwarding (design §2 step 8): each target's breaker and lease, the runs
already looked at for it, and what it holds of each record with the verdict it gave.
Migrations 0011 and 0017."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import KEY_LEN, Base


class ForwardTarget(Base):
    """A target's state, shared by every process: the circuit breaker (failed packages in a
    row, open until when) and the lease that lets one process at a time forward to it."""

    __tablename__ = "forward_target"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    open_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # every run up to this id was looked at; their forward_run rows are pruned (0017)
    runs_through: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class ForwardRun(Base):
    """A finished run whose records were looked at for a target (and the package they went
    in, if any changed): the outbox is the finished runs without a row here."""

    __tablename__ = "forward_run"
    target: Mapped[str] = mapped_column(String(100), primary_key=True)
    run_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    package_id: Mapped[str | None] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ForwardItem(Base):
    """What a target was last sent of one record (operation, content, version, package and
    line) and what it answered (its receipt's verdict for that line)."""

    __tablename__ = "forward_item"
    __table_args__ = (Index("ix_forward_item_line", "target", "package_id", "dataset", "line"),)
    target: Mapped[str] = mapped_column(String(100), primary_key=True)
    dataset: Mapped[str] = mapped_column(String(64), primary_key=True)
    business_key: Mapped[str] = mapped_column(String(KEY_LEN), primary_key=True)
    op: Mapped[str] = mapped_column(String(8))  # add, modify, delete
    content_hash: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(BigInteger)
    package_id: Mapped[str] = mapped_column(String(100))
    line: Mapped[int] = mapped_column(Integer)  # 1-based, in the package's data file
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16))  # the target's verdict
    upstream_version: Mapped[int | None] = mapped_column(Integer)
    rule: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    verdict_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
