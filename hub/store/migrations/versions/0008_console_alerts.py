"""Console sessions, failed sign-ins (throttling) and alerts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 22:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id_sha256", sa.String(64), primary_key=True),
        sa.Column("user_id", BigId, sa.ForeignKey("hub_user.id"), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("expires_at", When, nullable=False),
    )
    op.create_table(
        "login_failure",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", When, nullable=False),
    )
    op.create_index("ix_login_failure_key", "login_failure", ["key", "at"])
    op.create_table(
        "alert",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("opened_at", When, nullable=False),
        sa.Column("last_at", When, nullable=False),
        sa.Column("cleared_at", When),
        sa.Column("seen_at", When),
        sa.Column("seen_by", sa.String(100)),
        sa.Column("notified", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_alert_open", "alert", ["kind", "subject", "cleared_at"])
    # the console finds records by the key their sender gave them (a Fujian DATA_KEY); most
    # versions have none, so the index holds only those that do
    op.create_index(
        "ix_version_sender_key",
        "record_version",
        ["sender_key"],
        postgresql_where=sa.text("sender_key IS NOT NULL"),
        sqlite_where=sa.text("sender_key IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_version_sender_key", "record_version")
    op.drop_table("alert")
    op.drop_table("login_failure")
    op.drop_table("web_session")
