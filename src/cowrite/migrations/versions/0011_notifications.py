"""notifications, document subscriptions, notification preferences, mail outbox

Revision ID: 0011_notifications
Revises: 0006_collab
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_notifications"
down_revision = "0010_rich"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
BigIntKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete=ondelete, name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Uuid(),
            _fk("notifications", "user_id", "users", "CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column(
            "actor_id",
            sa.Uuid(),
            _fk("notifications", "actor_id", "users", "SET NULL"),
            nullable=True,
        ),
        sa.Column(
            "workspace_id",
            sa.Uuid(),
            _fk("notifications", "workspace_id", "workspaces", "CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "document_id",
            sa.Uuid(),
            _fk("notifications", "document_id", "documents", "CASCADE"),
            nullable=True,
        ),
        sa.Column("comment_id", sa.Uuid(), nullable=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("excerpt", sa.String(1000), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("read_at", TS, nullable=True),
        sa.Column("mail_due_at", TS, nullable=True),
    )
    op.create_index(
        "ix_notifications_user_created", "notifications", ["user_id", "created_at", "id"]
    )
    unread = sa.text("read_at IS NULL")
    op.create_index(
        "ix_notifications_user_unread",
        "notifications",
        ["user_id", "created_at"],
        sqlite_where=unread,
        postgresql_where=unread,
    )
    op.create_index(
        "ix_notifications_document_kind", "notifications", ["document_id", "kind", "created_at"]
    )
    due = sa.text("mail_due_at IS NOT NULL")
    op.create_index(
        "ix_notifications_mail_due",
        "notifications",
        ["mail_due_at"],
        sqlite_where=due,
        postgresql_where=due,
    )
    op.create_index("ix_notifications_read_at", "notifications", ["read_at"])

    op.create_table(
        "document_subscriptions",
        sa.Column(
            "user_id",
            sa.Uuid(),
            _fk("document_subscriptions", "user_id", "users", "CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "document_id",
            sa.Uuid(),
            _fk("document_subscriptions", "document_id", "documents", "CASCADE"),
            primary_key=True,
        ),
        sa.Column("following", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index(
        "ix_document_subscriptions_document",
        "document_subscriptions",
        ["document_id", "following"],
    )

    op.create_table(
        "notification_preferences",
        sa.Column(
            "user_id",
            sa.Uuid(),
            _fk("notification_preferences", "user_id", "users", "CASCADE"),
            primary_key=True,
        ),
        sa.Column("email", sa.JSON(), nullable=False),
        sa.Column("email_delay_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )

    op.create_table(
        "mail_outbox",
        sa.Column("id", BigIntKey, primary_key=True, autoincrement=True),
        sa.Column(
            "user_id", sa.Uuid(), _fk("mail_outbox", "user_id", "users", "CASCADE"), nullable=True
        ),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("claim", sa.String(64), nullable=True),
        sa.Column("last_error", sa.String(1000), nullable=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    unsent = sa.text("sent_at IS NULL")
    op.create_index(
        "ix_mail_outbox_unsent",
        "mail_outbox",
        ["next_attempt_at"],
        sqlite_where=unsent,
        postgresql_where=unsent,
    )


def downgrade() -> None:
    op.drop_table("mail_outbox")
    op.drop_table("notification_preferences")
    op.drop_table("document_subscriptions")
    op.drop_table("notifications")
