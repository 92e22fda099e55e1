"""Request and response bodies of share links."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints

SharePassword = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class ShareCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires_at: AwareDatetime | None = None
    password: SharePassword | None = None
    # False lets search engines index the shared page (no `X-Robots-Tag: noindex`).
    noindex: bool = True


class ShareOut(BaseModel):
    id: uuid.UUID
    document_id: uuid.UUID
    token: str | None = None  # shown once, when the link is made
    url: str | None = None
    expires_at: datetime | None
    has_password: bool
    noindex: bool
    created_by: uuid.UUID | None
    created_at: datetime
    last_used_at: datetime | None
    view_count: int


class SharedDocument(BaseModel):
    document_id: uuid.UUID
    title: str
    content: str
    format: str
    updated_at: datetime


class UnlockIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: Annotated[str, StringConstraints(max_length=128)]


class UnlockOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
