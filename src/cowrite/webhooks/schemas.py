"""Request and response bodies of the webhook endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from cowrite.webhooks.events import EventName

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)]
Events = Annotated[list[EventName], Field(min_length=1, max_length=32)]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookCreate(StrictBody):
    url: Url
    events: Events


class WebhookUpdate(StrictBody):
    """Fields left out stay as they are; `active: true` turns a turned-off webhook back on."""

    url: Url | None = None
    events: Events | None = None
    active: bool | None = None

    @field_validator("url", "events", "active")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null")
        return value


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    workspace_id: uuid.UUID
    url: str
    events: list[str]
    active: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    """As created: the signing secret is shown here once and never again."""

    secret: str


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event: str
    status: str
    status_code: int | None
    attempt: int
    error: str | None
    created_at: datetime
    delivered_at: datetime | None
    # When the next attempt is due; only while the delivery is pending.
    next_attempt_at: datetime | None

    @model_validator(mode="after")
    def _due_only_when_pending(self) -> DeliveryOut:
        if self.status != "pending":
            self.next_attempt_at = None
        return self
