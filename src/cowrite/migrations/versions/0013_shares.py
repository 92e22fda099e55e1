"""share links, personal API tokens, workspaces.allow_public_shares

Revision ID: 0013_shares
Revises: 0012_refresh_grace
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_shares"
down_revision = "0012_refresh_grace"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete=ondelete, name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(
            sa.Column("allow_public_shares", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    op.create_table(
        "share_links",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "document_id",
            sa.Uuid(),
            _fk("share_links", "document_id", "documents", "CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "workspace_id",
            sa.Uuid(),
            _fk("share_links", "workspace_id", "workspaces", "CASCADE"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("noindex", sa.Boolean(), nullable=False),
        sa.Column(
            "created_by",
            sa.Uuid(),
            _fk("share_links", "created_by", "users", "SET NULL"),
            nullable=True,
        ),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("view_count", sa.Integer(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_share_links_token_hash"),
    )
    op.create_index("ix_share_links_document", "share_links", ["document_id", "revoked_at"])
    op.create_index("ix_share_links_workspace_id", "share_links", ["workspace_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "user_id", sa.Uuid(), _fk("api_tokens", "user_id", "users", "CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("last_used_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_table("api_tokens")
    op.drop_table("share_links")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("allow_public_shares")
