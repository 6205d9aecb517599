"""The tables of signed packages: each one received (with the receipt this node gave it)
and each one pushed upstream (with the receipt the peer gave, or why it is dead)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigId


class Package(Base):
    """A signed package as received (filled by the signing issue's verifier)."""

    __tablename__ = "package"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    package_id: Mapped[str] = mapped_column(String(100), unique=True)
    sender: Mapped[str] = mapped_column(String(64))
    receiver: Mapped[str] = mapped_column(String(64))
    raw_sha256: Mapped[str] = mapped_column(ForeignKey("raw_batch.sha256"))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    signer: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)
    # the source its records were taken as, and the sender's sequence number (全面性)
    source: Mapped[str | None] = mapped_column(String(100))
    sequence: Mapped[int | None] = mapped_column(BigInteger)
    # while receiving: the receiver's lease; copies arriving meanwhile wait for its receipt
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # hub.store.lease.holder_id


class Delivery(Base):
    """A package pushed upstream: delivered (receipt kept), refused, or dead (the retries ran
    out: a dead-letter entry an administrator sees and can re-drive)."""

    __tablename__ = "delivery"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    package_id: Mapped[str] = mapped_column(String(100), index=True)
    peer: Mapped[str] = mapped_column(String(500))
    target: Mapped[str | None] = mapped_column(String(100))  # [forward.NAME]; none: by hand
    raw_sha256: Mapped[str] = mapped_column(String(64))  # the package bytes, in the raw store
    status: Mapped[str] = mapped_column(String(16))  # delivered, refused, dead
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    receipt: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
