"""Which process a sync run belongs to, so that a run whose process was killed is marked
interrupted by the next run on the same machine instead of staying "running" for ever.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 14:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_run") as t:
        t.add_column(sa.Column("owner", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("sync_run") as t:
        t.drop_column("owner")
