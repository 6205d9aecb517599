"""A lease on a package being received: concurrent copies wait for the first receiver.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("package") as b:
        b.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True)))


def downgrade() -> None:
    with op.batch_alter_table("package") as b:
        b.drop_column("claimed_until")
