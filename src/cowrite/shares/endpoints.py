"""Share links: `/api/v1/documents/{id}/shares`, `/api/v1/shares/{id}`, and the anonymous
`/api/v1/shared/{token}` read and unlock."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import HTTPAuthorizationCredentials

from cowrite.auth.deps import bearer
from cowrite.db import unit_of_work
from cowrite.deps import DbSession, State
from cowrite.documents.deps import DocumentEditor
from cowrite.kit.usage import UsageTally, Use
from cowrite.shares import repository, service
from cowrite.shares.deps import ShareEditor
from cowrite.shares.schemas import ShareCreate, SharedDocument, ShareOut, UnlockIn, UnlockOut
from cowrite.shares.tokens import ShareAccessTokens
from cowrite.state import AppState
from cowrite.workspaces.outbox import PendingEvents

router = APIRouter(tags=["shares"])

Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


@router.post(
    "/api/v1/documents/{document_id}/shares",
    status_code=status.HTTP_201_CREATED,
    response_model=ShareOut,
    response_model_exclude_none=False,
)
async def create_share(
    body: ShareCreate, access: DocumentEditor, state: State, session: DbSession
) -> ShareOut:
    return await service.create_link(
        state,
        session,
        access.document,
        access.principal.user_id,
        expires_at=body.expires_at,
        password=body.password,
        noindex=body.noindex,
    )


@router.get("/api/v1/documents/{document_id}/shares", response_model=list[ShareOut])
async def list_shares(access: DocumentEditor, state: State, session: DbSession) -> list[ShareOut]:
    return await service.list_links(state, session, access.document.id)


@router.delete("/api/v1/shares/{share_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_share(access: ShareEditor, session: DbSession, outbox: PendingEvents) -> Response:
    """Revoke at once: the link stops working and its open live views close."""
    await service.revoke_link(session, access.link, outbox)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _shared_headers(response: Response, noindex: bool) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    if noindex:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"


@router.get("/api/v1/shared/{token}", response_model=SharedDocument)
async def read_shared(
    token: str, response: Response, credentials: Bearer, state: State, session: DbSession
) -> SharedDocument:
    """Anyone with the link reads the document (a password-protected link takes the token
    that unlocking it gave, as `Authorization: Bearer`)."""
    opened = await service.open_link(
        state, session, token, credentials.credentials if credentials else None
    )
    if state.share_usage is not None:
        state.share_usage.note(opened.link.id)
    _shared_headers(response, opened.link.noindex)
    document = opened.document
    return SharedDocument(
        document_id=document.id,
        title=document.title,
        content=document.content,
        format=document.format,
        updated_at=document.updated_at,
    )


@router.post("/api/v1/shared/{token}/unlock", response_model=UnlockOut)
async def unlock_shared(
    token: str,
    body: UnlockIn,
    request: Request,
    response: Response,
    state: State,
    session: DbSession,
) -> UnlockOut:
    address = request.client.host if request.client else ""
    access_token = await service.unlock(state, session, token, body.password, address)
    _shared_headers(response, True)
    return UnlockOut(access_token=access_token, expires_in=service.access_tokens(state).ttl)


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    settings = state.settings
    state.share_access = ShareAccessTokens(
        settings.resolved_secret_key, settings.share_access_ttl_seconds
    )

    async def write(uses: dict[uuid.UUID, Use]) -> None:
        async with unit_of_work(state.session_factory) as session:
            await repository.record_uses(session, uses)

    tally = state.share_usage = UsageTally(write)
    task = asyncio.create_task(tally.run(settings.usage_flush_seconds), name="share-usage")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)
