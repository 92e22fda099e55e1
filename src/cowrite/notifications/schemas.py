"""Request and response bodies of the notification routes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cowrite.models import Notification
from cowrite.notifications.kinds import Kind


class ActorOut(BaseModel):
    id: uuid.UUID
    full_name: str


class NotificationOut(BaseModel):
    id: uuid.UUID
    kind: Kind
    actor: ActorOut | None
    workspace_id: uuid.UUID
    document_id: uuid.UUID | None
    comment_id: uuid.UUID | None
    title: str
    excerpt: str
    created_at: datetime
    read_at: datetime | None

    @classmethod
    def of(cls, notification: Notification, actor_name: str | None) -> NotificationOut:
        actor = None
        if notification.actor_id is not None and actor_name is not None:
            actor = ActorOut(id=notification.actor_id, full_name=actor_name)
        return cls(
            id=notification.id,
            kind=Kind(notification.kind),
            actor=actor,
            workspace_id=notification.workspace_id,
            document_id=notification.document_id,
            comment_id=notification.comment_id,
            title=notification.title,
            excerpt=notification.excerpt,
            created_at=notification.created_at,
            read_at=notification.read_at,
        )


class UnreadCountOut(BaseModel):
    count: int


class ReadAllIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    before: datetime | None = None


class UpdatedOut(BaseModel):
    updated: int


class SubscriptionOut(BaseModel):
    following: bool


MAX_DELAY_MINUTES = 7 * 24 * 60


class NotificationSettingsOut(BaseModel):
    email: dict[Kind, bool]
    email_delay_minutes: int


class NotificationSettingsIn(BaseModel):
    """Only what is given changes; an unknown kind is refused (422)."""

    model_config = ConfigDict(extra="forbid")

    email: dict[Kind, bool] | None = None
    email_delay_minutes: int | None = Field(default=None, ge=0, le=MAX_DELAY_MINUTES)


class UnsubscribedOut(BaseModel):
    kind: str
    email: bool
