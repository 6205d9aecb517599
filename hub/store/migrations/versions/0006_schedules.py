"""Schedules: the ledger row of each schedule (pause, failures, last tick, claim) and events.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "schedule_state",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("first_seen", When, nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("paused_reason", sa.Text()),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_tick", When),
        sa.Column("last_run", When),
        sa.Column("last_success", When),
        sa.Column("claimed_by", sa.String(200)),
        sa.Column("claimed_until", When),
    )
    op.create_table(
        "schedule_event",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("at", When, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("tick", When),
        sa.Column("detail", sa.Text(), nullable=False),
    )
    op.create_index("ix_schedule_event_name", "schedule_event", ["name", "id"])


def downgrade() -> None:
    op.drop_index("ix_schedule_event_name", "schedule_event")
    op.drop_table("schedule_event")
    op.drop_table("schedule_state")
