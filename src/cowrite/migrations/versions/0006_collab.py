"""Yjs update log and snapshots

Revision ID: 0006_collab
Revises: 0005_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_collab"
down_revision = "0005_sessions"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "yjs_updates",
        sa.Column("id", BigIntKey, primary_key=True, autoincrement=True),
        sa.Column(
            "document_id",
            sa.Uuid(),
            sa.ForeignKey(
                "documents.id", ondelete="CASCADE", name="fk_yjs_updates_document_id_documents"
            ),
            nullable=False,
        ),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_yjs_updates_document_id_id", "yjs_updates", ["document_id", "id"])
    op.create_table(
        "yjs_snapshots",
        sa.Column(
            "document_id",
            sa.Uuid(),
            sa.ForeignKey(
                "documents.id", ondelete="CASCADE", name="fk_yjs_snapshots_document_id_documents"
            ),
            primary_key=True,
        ),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("last_update_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("yjs_snapshots")
    op.drop_table("yjs_updates")
