"""Notifications, who follows which document, notification settings, and the mail outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from cowrite.kit.clock import utcnow
from cowrite.models.base import Base, BigIntKey, CreatedMixin, IdMixin

_UNREAD = text("read_at IS NULL")
_READ = text("read_at IS NOT NULL")
_MAIL_DUE = text("mail_due_at IS NOT NULL")
_UNSENT = text("sent_at IS NULL")


class Notification(IdMixin, CreatedMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_user_created", "user_id", "created_at", "id"),
        # The unread count and the unread list read only this (partial) index.
        Index(
            "ix_notifications_user_unread",
            "user_id",
            "created_at",
            sqlite_where=_UNREAD,
            postgresql_where=_UNREAD,
        ),
        Index("ix_notifications_document_kind", "document_id", "kind", "created_at"),
        Index(
            "ix_notifications_mail_due",
            "mail_due_at",
            sqlite_where=_MAIL_DUE,
            postgresql_where=_MAIL_DUE,
        ),
        # For the clean-up of read ones only: over every row, SQLite's planner would take it
        # for a way into the unread counts of several people (`read_at IS NULL`).
        Index(
            "ix_notifications_read_at",
            "read_at",
            sqlite_where=_READ,
            postgresql_where=_READ,
        ),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), default=None
    )
    workspace_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), default=None
    )
    # No foreign key: comments live in their own feature; a notification outlives nothing.
    comment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid(), default=None)
    title: Mapped[str] = mapped_column(String(500))
    excerpt: Mapped[str] = mapped_column(String(1000), default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(default=None)
    # When this notification, still unread, should go out by email; None: not (or no more).
    mail_due_at: Mapped[datetime | None] = mapped_column(default=None)


class DocumentSubscription(Base):
    """A person following (or having muted) a document."""

    __tablename__ = "document_subscriptions"
    __table_args__ = (Index("ix_document_subscriptions_document", "document_id", "following"),)

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    )
    following: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class NotificationPreferences(Base):
    """A person's notification settings; no row means the defaults."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # {kind: bool} for the kinds set away from the default (on).
    email: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    email_delay_minutes: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutgoingMail(CreatedMixin, Base):
    """A mail waiting to be sent (or sent, until the retention clean-up)."""

    __tablename__ = "mail_outbox"
    __table_args__ = (
        Index(
            "ix_mail_outbox_unsent",
            "next_attempt_at",
            sqlite_where=_UNSENT,
            postgresql_where=_UNSENT,
        ),
    )

    id: Mapped[int] = mapped_column(BigIntKey, primary_key=True, autoincrement=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), default=None
    )
    recipient: Mapped[str] = mapped_column(String(320))
    message: Mapped[str] = mapped_column(Text)  # the whole RFC 5322 message
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim: Mapped[str | None] = mapped_column(String(64), default=None)
    last_error: Mapped[str | None] = mapped_column(String(1000), default=None)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
