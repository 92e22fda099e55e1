"""Request and response bodies of the comments API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_BODY_CHARS = 10_000
MAX_POSITION_CHARS = 512

ThreadStatus = Literal["open", "resolved", "all"]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("the body cannot be empty")
    return value


Body = Annotated[str, Field(min_length=1, max_length=MAX_BODY_CHARS)]


class AnchorIn(StrictBody):
    """Either `{from, to}` (code points into the current content) or `{yjs_from, yjs_to}`
    (base64 of Yjs `encodeRelativePosition`)."""

    from_: int | None = Field(default=None, alias="from", ge=0, le=2**31)
    to: int | None = Field(default=None, ge=0, le=2**31)
    yjs_from: str | None = Field(default=None, min_length=1, max_length=MAX_POSITION_CHARS)
    yjs_to: str | None = Field(default=None, min_length=1, max_length=MAX_POSITION_CHARS)

    @model_validator(mode="after")
    def _one_form(self) -> AnchorIn:
        offsets = (self.from_, self.to)
        positions = (self.yjs_from, self.yjs_to)
        has_offsets = any(v is not None for v in offsets)
        has_positions = any(v is not None for v in positions)
        if has_offsets == has_positions:
            raise ValueError("give either {from, to} or {yjs_from, yjs_to}")
        if None in (offsets if has_offsets else positions):
            raise ValueError("an anchor needs both of its ends")
        if has_offsets and (self.from_ or 0) >= (self.to or 0):
            raise ValueError("from must be less than to")
        return self


class CommentCreate(StrictBody):
    body: Body
    anchor: AnchorIn | None = None
    parent_id: uuid.UUID | None = None

    _check_body = field_validator("body")(_not_blank)


class CommentUpdate(StrictBody):
    body: Body

    _check_body = field_validator("body")(_not_blank)


class AuthorOut(BaseModel):
    id: uuid.UUID
    full_name: str


class AnchorOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: int | None = Field(alias="from")
    to: int | None
    quote: str
    orphaned: bool
    # The stored relative positions (base64), for a Yjs client to highlight the text itself.
    yjs_from: str
    yjs_to: str


class ReactionOut(BaseModel):
    emoji: str
    count: int
    me: bool


class CommentOut(BaseModel):
    id: uuid.UUID
    document_id: uuid.UUID
    thread_id: uuid.UUID
    parent_id: uuid.UUID | None
    author: AuthorOut | None
    body: str
    anchor: AnchorOut | None
    resolved_at: datetime | None
    resolved_by: uuid.UUID | None
    reactions: list[ReactionOut]
    created_at: datetime
    updated_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None


class ThreadOut(CommentOut):
    replies: list[CommentOut]
