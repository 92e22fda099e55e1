"""/api/v1/auth and /api/v1/users/me."""

from __future__ import annotations

import contextlib
import uuid

from fastapi import APIRouter, Request, Response, status

from cowrite.auth import repository, service
from cowrite.auth.cookies import (
    CookieMode,
    clear_refresh_cookie,
    refresh_cookie,
    set_refresh_cookie,
)
from cowrite.auth.deps import AccountUser, PasswordLogin
from cowrite.auth.schemas import (
    AccessToken,
    ConnectionOut,
    LoginIn,
    LoginOut,
    PasswordChange,
    ProfileUpdate,
    RefreshIn,
    RegisterIn,
    SessionsOut,
    TokenPair,
    UserOut,
)
from cowrite.deps import DbSession, State
from cowrite.kit.errors import NotFound, Unauthorized

auth_router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
users_router = APIRouter(prefix="/api/v1/users", tags=["users"])


def client_info(request: Request) -> service.ClientInfo:
    address = request.client.host if request.client else ""
    return service.ClientInfo(address=address, user_agent=request.headers.get("user-agent", ""))


@auth_router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    dependencies=[PasswordLogin],
)
async def register(body: RegisterIn, request: Request, state: State, session: DbSession) -> UserOut:
    user = await service.register(
        state, session, body.email, body.password, body.full_name, client_info(request)
    )
    return UserOut.model_validate(user)


def answer_tokens(
    pair: TokenPair, cookie: bool, request: Request, response: Response, state: State
) -> TokenPair | AccessToken:
    """The pair as JSON, or in cookie mode the access token with the refresh token as a cookie."""
    if not cookie:
        return pair
    set_refresh_cookie(
        response, request, pair.refresh_token, state.settings.refresh_token_ttl_seconds
    )
    return AccessToken(
        access_token=pair.access_token, token_type=pair.token_type, expires_in=pair.expires_in
    )


def _presented_refresh_token(body: RefreshIn | None, cookie: bool, request: Request) -> str:
    token = body.refresh_token if body else (refresh_cookie(request) if cookie else None)
    if not token:
        raise Unauthorized("No refresh token", code="invalid_token")
    return token


@auth_router.post("/login", response_model=TokenPair | AccessToken, dependencies=[PasswordLogin])
async def login(
    body: LoginIn,
    request: Request,
    response: Response,
    state: State,
    session: DbSession,
    cookie: CookieMode = False,
) -> TokenPair | AccessToken:
    pair = await service.login(state, session, body.email, body.password, client_info(request))
    return answer_tokens(pair, cookie, request, response, state)


@auth_router.post("/refresh", response_model=TokenPair | AccessToken)
async def refresh(
    request: Request,
    response: Response,
    state: State,
    session: DbSession,
    body: RefreshIn | None = None,
    cookie: CookieMode = False,
) -> TokenPair | AccessToken:
    """Rotates the refresh token from the body or, in cookie mode, from the cookie."""
    pair = await service.refresh(state, session, _presented_refresh_token(body, cookie, request))
    return answer_tokens(pair, cookie, request, response, state)


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    request: Request,
    state: State,
    session: DbSession,
    body: RefreshIn | None = None,
    cookie: CookieMode = False,
) -> Response:
    """Ends the login; in cookie mode the cookie goes too, even when its login already ended."""
    answer = Response(status_code=status.HTTP_204_NO_CONTENT)
    if not cookie:
        await service.logout(state, session, _presented_refresh_token(body, cookie, request))
        return answer
    clear_refresh_cookie(answer, request)
    token = body.refresh_token if body else refresh_cookie(request)
    if token:
        with contextlib.suppress(Unauthorized):
            await service.logout(state, session, token)
    return answer


@users_router.get("/me", response_model=UserOut)
async def me(principal: AccountUser) -> UserOut:
    return UserOut.model_validate(principal.user)


@users_router.patch("/me", response_model=UserOut)
async def update_me(
    body: ProfileUpdate, principal: AccountUser, state: State, session: DbSession
) -> UserOut:
    user = principal.user
    user.full_name = body.full_name
    await session.flush()
    state.logins.forget_user(user.id)
    return UserOut.model_validate(user)


@users_router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordChange, principal: AccountUser, state: State, session: DbSession
) -> Response:
    await service.change_password(
        state, session, principal.user, principal.login_id, body.current_password, body.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.get("/me/sessions", response_model=SessionsOut)
async def my_sessions(principal: AccountUser, session: DbSession) -> SessionsOut:
    logins = await repository.live_logins(session, principal.user_id)
    connections = await repository.live_connections(session, principal.user_id)
    return SessionsOut(
        logins=[
            LoginOut(
                id=item.id,
                device_type=item.device_type,
                user_agent=item.user_agent,
                client_address=item.client_address,
                created_at=item.created_at,
                last_seen_at=item.last_used_at,
                current=item.id == principal.login_id,
            )
            for item in logins
        ],
        connections=[
            ConnectionOut(
                connection_id=item.connection_id,
                login_id=item.login_id,
                channel=item.channel,
                device_type=item.device_type,
                client_address=item.client_address,
                document_id=item.document_id,
                connected_at=item.connected_at,
                last_seen_at=item.last_seen_at,
            )
            for item in connections
        ],
    )


@users_router.delete("/me/sessions/{login_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_session(
    login_id: uuid.UUID, principal: AccountUser, state: State, session: DbSession
) -> Response:
    revoked = await service.revoke(state, session, principal.user_id, [login_id])
    if not revoked:
        raise NotFound("No such login", code="login_not_found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
