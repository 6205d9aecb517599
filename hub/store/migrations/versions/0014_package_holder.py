"""Who is receiving a package (the lease's holder), so that a receiver killed on the same
machine is taken over at once instead of when its two-minute lease runs out.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("package") as t:
        t.add_column(sa.Column("claimed_by", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("package") as t:
        t.drop_column("claimed_by")
