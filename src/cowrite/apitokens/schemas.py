"""Request and response bodies of personal API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Scope = Literal["read", "write"]


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TokenName
    scopes: Annotated[list[Scope], Field(min_length=1, max_length=2)] = ["read"]
    expires_at: AwareDatetime | None = None


class TokenOut(BaseModel):
    id: uuid.UUID
    name: str
    scopes: list[str]
    expires_at: datetime | None
    created_at: datetime
    last_used_at: datetime | None


class TokenCreated(TokenOut):
    token: str  # shown once
