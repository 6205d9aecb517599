"""record_version by run: what a run wrote, without reading every version.

The findings check (every minute under ``hub serve``), the quality scores and a run's page
ask for the versions of given runs; without an index each asked by scanning the table.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 01:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_version_run", "record_version", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_version_run", table_name="record_version")
