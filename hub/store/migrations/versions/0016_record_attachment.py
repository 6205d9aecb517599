"""The attachments a version arrived with (Fujian's FILECONTEXT), kept beside the version
instead of only inside the raw message, so `hub show` can list them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "record_attachment",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
            autoincrement=True,
        ),
        sa.Column("version_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  sa.ForeignKey("record_version.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(100)),
        sa.Column("name", sa.Text()),
        sa.Column("location", sa.Text()),
        sa.Column("removed", sa.Boolean(), nullable=False),
    )  # fmt: skip
    op.create_index("ix_attachment_version", "record_attachment", ["version_id"])


def downgrade() -> None:
    op.drop_index("ix_attachment_version", "record_attachment")
    op.drop_table("record_attachment")
