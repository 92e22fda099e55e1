"""document format (markdown or rich)

Revision ID: 0010_rich
Revises: 0006_collab
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_rich"
down_revision = "0009_integrations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(
            sa.Column("format", sa.String(8), nullable=False, server_default="markdown")
        )


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("format")
