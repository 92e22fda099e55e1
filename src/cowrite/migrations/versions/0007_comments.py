"""comments, reactions, mentions, and the commenter role

Revision ID: 0007_comments
Revises: 0006_collab
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_comments"
down_revision = "0006_collab"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ROLES_BEFORE = "role IN ('viewer', 'editor', 'admin', 'owner')"
ROLES_AFTER = "role IN ('viewer', 'commenter', 'editor', 'admin', 'owner')"


def _replace_role_check(condition: str) -> None:
    """Swap the memberships role check, under the name it has in this database. SQLite cannot
    alter a constraint: batch mode rebuilds the table there."""
    checks = sa.inspect(op.get_bind()).get_check_constraints("memberships")
    names = [str(check["name"]) for check in checks if check["name"] and "role" in check["sqltext"]]
    name = names[0] if names else "ck_memberships_role"
    with op.batch_alter_table("memberships") as batch:
        for existing in names:
            batch.drop_constraint(op.f(existing), type_="check")
        batch.create_check_constraint(op.f(name), condition)


def _fk(column: str, table: str, target: str, ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete=ondelete, name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    _replace_role_check(ROLES_AFTER)
    op.create_table(
        "comments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "document_id",
            sa.Uuid(),
            _fk("document_id", "comments", "documents", "CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "workspace_id",
            sa.Uuid(),
            _fk("workspace_id", "comments", "workspaces", "CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "parent_id",
            sa.Uuid(),
            _fk("parent_id", "comments", "comments", "CASCADE"),
            nullable=True,
        ),
        sa.Column(
            "author_id", sa.Uuid(), _fk("author_id", "comments", "users", "SET NULL"), nullable=True
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("anchor_start", sa.LargeBinary(), nullable=True),
        sa.Column("anchor_end", sa.LargeBinary(), nullable=True),
        sa.Column("anchor_quote", sa.Text(), nullable=True),
        sa.Column("resolved_at", TS, nullable=True),
        sa.Column(
            "resolved_by",
            sa.Uuid(),
            _fk("resolved_by", "comments", "users", "SET NULL"),
            nullable=True,
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("edited_at", TS, nullable=True),
        sa.Column("deleted_at", TS, nullable=True),
    )
    op.create_index("ix_comments_document_parent", "comments", ["document_id", "parent_id"])
    op.create_index("ix_comments_workspace_id", "comments", ["workspace_id"])
    op.create_index("ix_comments_parent_id", "comments", ["parent_id"])
    op.create_table(
        "comment_reactions",
        sa.Column(
            "comment_id",
            sa.Uuid(),
            _fk("comment_id", "comment_reactions", "comments", "CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.Uuid(),
            _fk("user_id", "comment_reactions", "users", "CASCADE"),
            primary_key=True,
        ),
        sa.Column("emoji", sa.String(64), primary_key=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "comment_mentions",
        sa.Column(
            "comment_id",
            sa.Uuid(),
            _fk("comment_id", "comment_mentions", "comments", "CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.Uuid(),
            _fk("user_id", "comment_mentions", "users", "CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "document_id",
            sa.Uuid(),
            _fk("document_id", "comment_mentions", "documents", "CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_comment_mentions_user_id", "comment_mentions", ["user_id"])


def downgrade() -> None:
    op.drop_table("comment_mentions")
    op.drop_table("comment_reactions")
    op.drop_table("comments")
    op.execute("DELETE FROM memberships WHERE role = 'commenter'")
    _replace_role_check(ROLES_BEFORE)
