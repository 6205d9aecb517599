"""Supervision findings and the evaluation cursor.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 22:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "finding",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("pack", sa.String(64), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("business_key", sa.String(400), nullable=False),
        sa.Column("other_dataset", sa.String(64), nullable=False),
        sa.Column("other_key", sa.String(400), nullable=False),
        sa.Column("source", sa.String(100), nullable=False),
        sa.Column("event_day", sa.Date()),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("found_at", When, nullable=False),
        sa.Column("cleared_at", When),
        sa.Column("reviewed_by", sa.String(100)),
        sa.Column("reviewed_at", When),
        sa.Column("note", sa.Text()),
        sa.UniqueConstraint(
            "rule", "dataset", "business_key", "other_dataset", "other_key", name="uq_finding"
        ),
    )
    op.create_index("ix_finding_status", "finding", ["status", "id"])
    op.create_index("ix_finding_record", "finding", ["dataset", "business_key"])
    op.create_table(
        "supervise_cursor",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", When, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("supervise_cursor")
    op.drop_table("finding")
