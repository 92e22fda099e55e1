"""documents, tags and versions

Revision ID: 0003_documents
Revises: 0002_workspaces
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_documents"
down_revision = "0002_workspaces"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _user_fk(table: str, column: str) -> sa.Column:
    return sa.Column(
        column,
        sa.Uuid(),
        sa.ForeignKey("users.id", ondelete="SET NULL", name=f"fk_{table}_{column}_users"),
        nullable=True,
    )


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.Uuid(),
            sa.ForeignKey(
                "workspaces.id", ondelete="CASCADE", name="fk_documents_workspace_id_workspaces"
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _user_fk("documents", "created_by"),
        _user_fk("documents", "updated_by"),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("deleted_at", TS, nullable=True),
        _user_fk("documents", "deleted_by"),
    )
    op.create_index(
        "ix_documents_workspace_live", "documents", ["workspace_id", "deleted_at", "updated_at"]
    )
    op.create_table(
        "document_tags",
        sa.Column(
            "document_id",
            sa.Uuid(),
            sa.ForeignKey(
                "documents.id", ondelete="CASCADE", name="fk_document_tags_document_id_documents"
            ),
            primary_key=True,
        ),
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column(
            "workspace_id",
            sa.Uuid(),
            sa.ForeignKey(
                "workspaces.id", ondelete="CASCADE", name="fk_document_tags_workspace_id_workspaces"
            ),
            nullable=False,
        ),
    )
    op.create_index("ix_document_tags_workspace_name", "document_tags", ["workspace_id", "name"])
    op.create_table(
        "document_versions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "document_id",
            sa.Uuid(),
            sa.ForeignKey(
                "documents.id",
                ondelete="CASCADE",
                name="fk_document_versions_document_id_documents",
            ),
            nullable=False,
        ),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("label", sa.String(200), nullable=True),
        _user_fk("document_versions", "author_id"),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("base_number", sa.Integer(), nullable=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("content_size", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.UniqueConstraint("document_id", "number", name="uq_document_versions_document_id"),
    )


def downgrade() -> None:
    op.drop_table("document_versions")
    op.drop_table("document_tags")
    op.drop_table("documents")
