"""全面性 by package: the source a package's records were taken as, and the sender's sequence
number from its signed manifest, so a gap shows a package that never arrived.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("package") as t:
        t.add_column(sa.Column("source", sa.String(100)))
        t.add_column(sa.Column("sequence", sa.BigInteger()))


def downgrade() -> None:
    with op.batch_alter_table("package") as t:
        t.drop_column("sequence")
        t.drop_column("source")
