"""live connection sessions

Revision ID: 0005_sessions
Revises: 0004_files
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_sessions"
down_revision = "0004_files"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("connection_id", sa.Uuid(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Uuid(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_user_sessions_user_id_users"),
            nullable=False,
        ),
        sa.Column(
            "login_id",
            sa.Uuid(),
            sa.ForeignKey(
                "logins.id", ondelete="SET NULL", name="fk_user_sessions_login_id_logins"
            ),
            nullable=True,
        ),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("user_agent", sa.String(512), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("device_type", sa.String(16), nullable=False),
        sa.Column("workspace_id", sa.Uuid(), nullable=True),
        sa.Column("document_id", sa.Uuid(), nullable=True),
        sa.Column("process_id", sa.String(64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("connected_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("disconnected_at", TS, nullable=True),
    )
    op.create_index("ix_user_sessions_user_active", "user_sessions", ["user_id", "is_active"])
    op.create_index("ix_user_sessions_process_id", "user_sessions", ["process_id"])


def downgrade() -> None:
    op.drop_table("user_sessions")
