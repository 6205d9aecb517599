"""Forwarding to targets: their breaker and lease, the runs looked at for each, what each
target holds of a record and its verdict; deliveries name their target.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "forward_target",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("open_until", When),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_attempt", When),
        sa.Column("last_success", When),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_until", When),
    )
    op.create_table(
        "forward_run",
        sa.Column("target", sa.String(100), primary_key=True),
        sa.Column("run_id", sa.BigInteger(), primary_key=True),
        sa.Column("package_id", sa.String(100)),
        sa.Column("at", When, nullable=False),
    )
    op.create_table(
        "forward_item",
        sa.Column("target", sa.String(100), primary_key=True),
        sa.Column("dataset", sa.String(64), primary_key=True),
        sa.Column("business_key", sa.String(400), primary_key=True),
        sa.Column("op", sa.String(8), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("version_id", sa.BigInteger(), nullable=False),
        sa.Column("package_id", sa.String(100), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("sent_at", When, nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("upstream_version", sa.Integer()),
        sa.Column("rule", sa.String(64)),
        sa.Column("field", sa.String(64)),
        sa.Column("value", sa.Text()),
        sa.Column("message", sa.Text()),
        sa.Column("verdict_at", When),
    )
    op.create_index(
        "ix_forward_item_line", "forward_item", ["target", "package_id", "dataset", "line"]
    )
    with op.batch_alter_table("delivery") as b:
        b.add_column(sa.Column("target", sa.String(100)))


def downgrade() -> None:
    with op.batch_alter_table("delivery") as b:
        b.drop_column("target")
    op.drop_index("ix_forward_item_line", table_name="forward_item")
    op.drop_table("forward_item")
    op.drop_table("forward_run")
    op.drop_table("forward_target")
