"""Deliveries upstream and their dead-letter entries.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 20:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "delivery",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("package_id", sa.String(100), nullable=False),
        sa.Column("peer", sa.String(500), nullable=False),
        sa.Column("raw_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("receipt", sa.LargeBinary()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_delivery_package_id", "delivery", ["package_id"])


def downgrade() -> None:
    op.drop_index("ix_delivery_package_id", "delivery")
    op.drop_table("delivery")
