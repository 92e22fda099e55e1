"""Who is calling: the bearer token, checked against its live login on every request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.apitokens import service as api_tokens
from cowrite.auth import repository
from cowrite.auth.tokens import ACCESS
from cowrite.deps import READ_METHODS, DbSession, SettingsDep, State
from cowrite.kit.errors import Forbidden, Unauthorized
from cowrite.models import User
from cowrite.state import AppState

bearer = HTTPBearer(auto_error=False)


@dataclass(frozen=True, slots=True)
class Principal:
    user: User
    # The login of an access token; for a personal API token, the token's own id.
    login_id: uuid.UUID
    # Set when a personal API token authenticated the request.
    api_token_id: uuid.UUID | None = None

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


async def principal_from_api_token(
    state: AppState, session: AsyncSession, token: str, method: str
) -> Principal:
    """A personal API token's owner; a read-only token may only read."""
    found, user = await api_tokens.authenticate(state, session, token)
    if method not in READ_METHODS and api_tokens.WRITE not in found.scopes:
        raise Forbidden("This token may only read", code="insufficient_scope")
    return Principal(user=user, login_id=found.id, api_token_id=found.id)


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _bearer_token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Missing bearer token", code="not_authenticated")
    return credentials.credentials


async def current_principal(
    request: Request, state: State, session: DbSession, credentials: Credentials
) -> Principal:
    """An access token, or on REST routes a personal API token."""
    token = _bearer_token(credentials)
    if api_tokens.is_api_token(token):
        return await principal_from_api_token(state, session, token, request.method)
    return await principal_from_token(state, session, token)


async def account_principal(
    state: State, session: DbSession, credentials: Credentials
) -> Principal:
    """For the account, token and session routes: a signed-in person, never an API token."""
    return await principal_from_token(state, session, _bearer_token(credentials))


CurrentUser = Annotated[Principal, Depends(current_principal)]
AccountUser = Annotated[Principal, Depends(account_principal)]


async def password_login_enabled(settings: SettingsDep) -> None:
    """Refuse password sign-in and sign-up when COWRITE_PASSWORD_LOGIN is false."""
    if not settings.password_login:
        raise Forbidden("Password sign-in is turned off here", code="password_login_disabled")


PasswordLogin = Depends(password_login_enabled)
