"""Request and response bodies of the workspace and member endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator

from cowrite.auth.schemas import Email
from cowrite.workspaces.roles import Role

WorkspaceName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Description = Annotated[str, StringConstraints(max_length=5000)]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkspaceCreate(StrictBody):
    name: WorkspaceName
    description: Description | None = None


class WorkspaceUpdate(StrictBody):
    """Fields left out stay as they are; `description: null` clears it."""

    name: WorkspaceName | None = None
    description: Description | None = None
    # false revokes every share link of the workspace and refuses new ones
    allow_public_shares: bool | None = None

    @field_validator("name", "allow_public_shares")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null")
        return value


class WorkspaceOut(BaseModel):
    id: uuid.UUID
    name: str
    description: str | None
    role: Role
    created_at: datetime
    updated_at: datetime
    allow_public_shares: bool = True


class MemberCreate(StrictBody):
    email: Email
    role: Role


class MemberUpdate(StrictBody):
    role: Role


class OwnershipTransfer(StrictBody):
    user_id: uuid.UUID


class MemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    full_name: str
    role: Role
    joined_at: datetime
