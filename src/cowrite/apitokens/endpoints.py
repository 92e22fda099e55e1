"""/api/v1/users/me/tokens: a person's API tokens (never reachable with an API token)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from contextlib import AsyncExitStack
from datetime import datetime

from fastapi import APIRouter, Response, status

from cowrite.apitokens import repository, service
from cowrite.apitokens.schemas import TokenCreate, TokenCreated, TokenOut
from cowrite.auth.deps import AccountUser
from cowrite.db import unit_of_work
from cowrite.deps import DbSession, State
from cowrite.kit.usage import UsageTally, Use
from cowrite.models import ApiToken
from cowrite.state import AppState

router = APIRouter(prefix="/api/v1/users/me/tokens", tags=["users"])


def _out(token: ApiToken, last_used_at: datetime | None = None) -> TokenOut:
    return TokenOut(
        id=token.id,
        name=token.name,
        scopes=list(token.scopes),
        expires_at=token.expires_at,
        created_at=token.created_at,
        last_used_at=last_used_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
async def create_token(
    body: TokenCreate, principal: AccountUser, session: DbSession
) -> TokenCreated:
    token, secret = await service.create_token(
        session, principal.user_id, body.name, body.scopes, body.expires_at
    )
    return TokenCreated(**_out(token).model_dump(), token=secret)


@router.get("", response_model=list[TokenOut])
async def list_tokens(principal: AccountUser, state: State, session: DbSession) -> list[TokenOut]:
    tokens = await service.list_tokens(state, session, principal.user_id)
    return [_out(token, last_used_at) for token, last_used_at in tokens]


@router.delete("/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(token_id: uuid.UUID, principal: AccountUser, session: DbSession) -> Response:
    await service.revoke_token(session, principal.user_id, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    async def write(uses: dict[uuid.UUID, Use]) -> None:
        async with unit_of_work(state.session_factory) as session:
            await repository.record_uses(session, uses)

    tally = state.token_usage = UsageTally(write)
    task = asyncio.create_task(
        tally.run(state.settings.usage_flush_seconds), name="api-token-usage"
    )

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)
