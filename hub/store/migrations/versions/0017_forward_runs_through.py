"""A target's watermark of runs looked at: every run up to ``runs_through`` was, so their
forward_run rows can go (one row per run per target grew without end).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("forward_target") as t:
        t.add_column(sa.Column("runs_through", sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("forward_target") as t:
        t.drop_column("runs_through")
