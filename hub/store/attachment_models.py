"""The attachments a version arrived with (Fujian's FILECONTEXT: 附件采集项 code, file name and
where the file lies on the sender's drop), kept with the version they came in.  Migration 0016."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.base import Base, BigId


class RecordAttachment(Base):
    """One attachment listed with one version, in the order the message lists them."""

    __tablename__ = "record_attachment"
    __table_args__ = (Index("ix_attachment_version", "version_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("record_version.id"))
    seq: Mapped[int] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(100))  # FILE_EN_NAME: the 附件采集项
    name: Mapped[str | None] = mapped_column(Text)  # FILE_NAME
    location: Mapped[str | None] = mapped_column(Text)  # BINARY_CONTENT: path on the drop
    removed: Mapped[bool] = mapped_column(Boolean, default=False)  # IS_DELETE = 1
