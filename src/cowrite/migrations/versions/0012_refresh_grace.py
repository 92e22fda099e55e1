"""logins remember the refresh id rotated out last, for a short reuse grace

Revision ID: 0012_refresh_grace
Revises: 0011_notifications
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_refresh_grace"
down_revision = "0011_notifications"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("logins") as batch:
        batch.add_column(sa.Column("previous_refresh_jti", sa.String(64), nullable=True))
        batch.add_column(sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("logins") as batch:
        batch.drop_column("rotated_at")
        batch.drop_column("previous_refresh_jti")
