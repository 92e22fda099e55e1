"""/api/v1/auth and /api/v1/users/me."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from cowrite.auth import repository, service
from cowrite.auth.deps import CurrentUser, PasswordLogin
from cowrite.auth.schemas import (
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
from cowrite.kit.errors import NotFound

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
async def register(body: RegisterIn, state: State, session: DbSession) -> UserOut:
    user = await service.register(state, session, body.email, body.password, body.full_name)
    return UserOut.model_validate(user)


@auth_router.post("/login", response_model=TokenPair, dependencies=[PasswordLogin])
async def login(body: LoginIn, request: Request, state: State, session: DbSession) -> TokenPair:
    return await service.login(state, session, body.email, body.password, client_info(request))


@auth_router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshIn, state: State, session: DbSession) -> TokenPair:
    return await service.refresh(state, session, body.refresh_token)


@auth_router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshIn, state: State, session: DbSession) -> Response:
    await service.logout(state, session, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.get("/me", response_model=UserOut)
async def me(principal: CurrentUser) -> UserOut:
    return UserOut.model_validate(principal.user)


@users_router.patch("/me", response_model=UserOut)
async def update_me(body: ProfileUpdate, principal: CurrentUser, session: DbSession) -> UserOut:
    user = principal.user
    user.full_name = body.full_name
    await session.flush()
    return UserOut.model_validate(user)


@users_router.post("/me/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordChange, principal: CurrentUser, state: State, session: DbSession
) -> Response:
    await service.change_password(
        state, session, principal.user, principal.login_id, body.current_password, body.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@users_router.get("/me/sessions", response_model=SessionsOut)
async def my_sessions(principal: CurrentUser, session: DbSession) -> SessionsOut:
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
    login_id: uuid.UUID, principal: CurrentUser, state: State, session: DbSession
) -> Response:
    revoked = await service.revoke(state, session, principal.user_id, [login_id])
    if not revoked:
        raise NotFound("No such login", code="login_not_found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
