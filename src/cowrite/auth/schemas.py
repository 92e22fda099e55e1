"""Request and response bodies of the auth and user endpoints."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def _normalize_email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("Not a valid email address")
    return value


Email = Annotated[str, StringConstraints(max_length=320), AfterValidator(_normalize_email)]
FullName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# Length and strength are checked by the service so the message can say why.
PasswordText = Annotated[str, StringConstraints(min_length=1, max_length=1024)]
TokenText = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterIn(StrictBody):
    email: Email
    password: PasswordText
    full_name: FullName


class LoginIn(StrictBody):
    email: Annotated[str, StringConstraints(min_length=1, max_length=320)]
    password: PasswordText


class RefreshIn(StrictBody):
    refresh_token: TokenText


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int


class AccessToken(BaseModel):
    """The answer of cookie mode: the refresh token went into an HttpOnly cookie."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    created_at: datetime


class ProfileUpdate(StrictBody):
    full_name: FullName


class PasswordChange(StrictBody):
    current_password: PasswordText
    new_password: PasswordText


class LoginOut(BaseModel):
    id: uuid.UUID
    device_type: str
    user_agent: str
    client_address: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


class ConnectionOut(BaseModel):
    connection_id: uuid.UUID
    login_id: uuid.UUID | None
    channel: str
    device_type: str
    client_address: str
    document_id: uuid.UUID | None
    connected_at: datetime
    last_seen_at: datetime


class SessionsOut(BaseModel):
    logins: list[LoginOut] = Field(default_factory=list)
    connections: list[ConnectionOut] = Field(default_factory=list)
