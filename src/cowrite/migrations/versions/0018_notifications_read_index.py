"""notifications: the index of read times holds read notifications only

Revision ID: 0018_notifications_read_index
Revises: 0017_search_bitmap

The clean-up looks notifications up by `read_at < cutoff`, which only read ones can match. Over
every row, the index also offered SQLite's planner `read_at IS NULL` as a cheap-looking way into
the unread counts of several people at once; it then walked every unread notification of
everyone instead of each person's entries in the partial index of unread ones.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018_notifications_read_index"
down_revision = "0017_search_bitmap"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_notifications_read_at", table_name="notifications")
    read = sa.text("read_at IS NOT NULL")
    op.create_index(
        "ix_notifications_read_at",
        "notifications",
        ["read_at"],
        sqlite_where=read,
        postgresql_where=read,
    )


def downgrade() -> None:
    op.drop_index("ix_notifications_read_at", table_name="notifications")
    op.create_index("ix_notifications_read_at", "notifications", ["read_at"])
