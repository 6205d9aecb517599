"""Lean current view: content lives only in its version; one index less on versions.

The current view used to carry a second copy of every record's canonical content, and
record_version had an index on (dataset, business_key) that the unique constraint on
(dataset, business_key, content_hash) already provides as its prefix.  Both doubled the bytes
and index updates written per accepted record.  The library views now join the version.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 17:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LIBRARIES = ("transactions", "entities", "experts", "credit", "supervision")
FALSE = "false"


def _views(content_from_version: bool) -> None:
    for lib in LIBRARIES:
        op.execute(f"DROP VIEW IF EXISTS library_{lib}")
        if content_from_version:
            body = (
                "SELECT c.dataset, c.business_key, c.version_id, c.data_timestamp, v.content, "
                "c.conflict, c.source, c.updated_at FROM current_record c "
                "JOIN record_version v ON v.id = c.version_id "
                f"WHERE c.library = '{lib}' AND c.deleted = {FALSE}"
            )
        else:
            body = (
                "SELECT dataset, business_key, version_id, data_timestamp, content, conflict, "
                f"source, updated_at FROM current_record WHERE library = '{lib}' "
                f"AND deleted = {FALSE}"
            )
        op.execute(f"CREATE VIEW library_{lib} AS {body}")


def upgrade() -> None:
    for lib in LIBRARIES:
        op.execute(f"DROP VIEW IF EXISTS library_{lib}")
    with op.batch_alter_table("current_record") as batch_op:
        batch_op.drop_column("content")
    with op.batch_alter_table("record_version") as batch_op:
        batch_op.drop_index("ix_version_key")
    _views(content_from_version=True)


def downgrade() -> None:
    for lib in LIBRARIES:
        op.execute(f"DROP VIEW IF EXISTS library_{lib}")
    with op.batch_alter_table("record_version") as batch_op:
        batch_op.create_index("ix_version_key", ["dataset", "business_key"], unique=False)
    with op.batch_alter_table("current_record") as batch_op:
        batch_op.add_column(sa.Column("content", sa.Text(), nullable=False, server_default=""))
    op.execute(
        "UPDATE current_record SET content = "
        "(SELECT v.content FROM record_version v WHERE v.id = current_record.version_id)"
    )
    _views(content_from_version=False)
