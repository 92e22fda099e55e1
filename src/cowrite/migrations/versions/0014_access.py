"""restricted documents: documents.visibility and document_members

Revision ID: 0014_access
Revises: 0013_shares
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_access"
down_revision = "0013_shares"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
_SCOPE_INDEX = "CREATE INDEX ix_documents_search_scope ON documents ({columns})"


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.add_column(
            sa.Column("visibility", sa.String(16), nullable=False, server_default="workspace")
        )
    op.create_table(
        "document_members",
        sa.Column(
            "document_id",
            sa.Uuid(),
            sa.ForeignKey(
                "documents.id", ondelete="CASCADE", name="fk_document_members_document_id_documents"
            ),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.Uuid(),
            sa.ForeignKey("users.id", ondelete="CASCADE", name="fk_document_members_user_id_users"),
            primary_key=True,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column(
            "added_by",
            sa.Uuid(),
            sa.ForeignKey(
                "users.id", ondelete="SET NULL", name="fk_document_members_added_by_users"
            ),
            nullable=True,
        ),
        sa.Column("added_at", TS, nullable=False),
        sa.CheckConstraint(
            "role IN ('viewer', 'commenter', 'editor')", name="ck_document_members_role"
        ),
    )
    op.create_index("ix_document_members_user_id", "document_members", ["user_id"])
    if op.get_bind().dialect.name == "sqlite":
        # Search checks every candidate's visibility too: keep reading it from the index that
        # already answers its workspace and trash state, not from the (large) rows.
        op.execute("DROP INDEX IF EXISTS ix_documents_search_scope")
        op.execute(_SCOPE_INDEX.format(columns="id, deleted_at, workspace_id, visibility"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS ix_documents_search_scope")
        op.execute(_SCOPE_INDEX.format(columns="id, deleted_at, workspace_id"))
    op.drop_index("ix_document_members_user_id", table_name="document_members")
    op.drop_table("document_members")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("visibility")
