"""Every record's fate, answerable: conflict resolutions, quarantine notes, list indexes.

A resolved conflict records the version an administrator took, who and when; a discarded
quarantine row keeps its raw record (evidence) with the reason.  Indexes serve the lists of
runs by time and of issues by source.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conflict") as b:
        b.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True)))
        b.add_column(sa.Column("resolved_by", sa.String(100)))
        b.add_column(sa.Column("version_id", sa.BigInteger()))
        b.add_column(sa.Column("note", sa.Text()))
    with op.batch_alter_table("quarantine") as b:
        b.add_column(sa.Column("note", sa.Text()))
    op.create_index("ix_run_started", "sync_run", ["started_at"])
    op.create_index("ix_issue_source_run", "issue", ["source", "run_id"])


def downgrade() -> None:
    op.drop_index("ix_issue_source_run", "issue")
    op.drop_index("ix_run_started", "sync_run")
    with op.batch_alter_table("quarantine") as b:
        b.drop_column("note")
    with op.batch_alter_table("conflict") as b:
        for c in ("note", "version_id", "resolved_by", "resolved_at"):
            b.drop_column(c)
