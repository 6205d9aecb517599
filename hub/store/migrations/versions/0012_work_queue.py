"""Scale-out: the shared work queue and the scheduler's leader lease.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 06:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "leader",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(200)),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", When),
    )
    op.create_table(
        "work_item",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("raw_sha256", sa.String(64), nullable=False),
        sa.Column("fmt", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_until", When),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.BigInteger()),
        sa.Column("error", sa.Text()),
        sa.Column("created_at", When, nullable=False),
        sa.Column("done_at", When),
    )
    op.create_index("ix_work_item_status", "work_item", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_work_item_status", table_name="work_item")
    op.drop_table("work_item")
    op.drop_table("leader")
