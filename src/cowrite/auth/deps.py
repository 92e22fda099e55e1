"""Who is calling: the bearer token, checked against its live login on every request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.auth import repository
from cowrite.auth.tokens import ACCESS
from cowrite.deps import DbSession, SettingsDep, State
from cowrite.kit.errors import Forbidden, Unauthorized
from cowrite.models import User
from cowrite.state import AppState

bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    login_id: uuid.UUID

    @property
    def user_id(self) -> uuid.UUID:
        return self.user.id


async def principal_from_token(state: AppState, session: AsyncSession, token: str) -> Principal:
    """Decode an access token and confirm its login is still live (logout ends it at once)."""
    claims = state.tokens.decode(token, ACCESS)
    user = state.logins.user(session, claims.login_id, claims.user_id)
    if user is None:
        user = await repository.user_of_active_login(session, claims.login_id, claims.user_id)
        if user is None:
            raise Unauthorized("Login has ended", code="invalid_token")
        state.logins.remember(claims.login_id, user)
    return Principal(user=user, login_id=claims.login_id)


async def current_principal(
    state: State,
    session: DbSession,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Missing bearer token", code="not_authenticated")
    return await principal_from_token(state, session, credentials.credentials)


CurrentUser = Annotated[Principal, Depends(current_principal)]


async def password_login_enabled(settings: SettingsDep) -> None:
    """Refuse password sign-in and sign-up when COWRITE_PASSWORD_LOGIN is false."""
    if not settings.password_login:
        raise Forbidden("Password sign-in is turned off here", code="password_login_disabled")


PasswordLogin = Depends(password_login_enabled)
