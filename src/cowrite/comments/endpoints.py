"""/api/v1/documents/{document_id}/comments and /api/v1/comments/{comment_id}."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from cowrite.comments import service
from cowrite.comments.deps import (
    CommentAuthor,
    CommentDeleter,
    CommentReactor,
    DocumentCommenter,
    ThreadResolver,
)
from cowrite.comments.limits import CommentLimiter
from cowrite.comments.live import CommentChanged, changed, forward_to_rooms
from cowrite.comments.schemas import (
    CommentCreate,
    CommentOut,
    CommentUpdate,
    ThreadOut,
    ThreadStatus,
)
from cowrite.comments.text import mentioned_ids
from cowrite.deps import DbSession, State
from cowrite.documents.deps import DocumentViewer
from cowrite.kit.events import CommentPosted
from cowrite.kit.pagination import Page, PageParams, page_params
from cowrite.state import AppState
from cowrite.workspaces.outbox import PendingEvents

router = APIRouter(prefix="/api/v1", tags=["comments"])

Emoji = Annotated[str, Path(min_length=1, max_length=64)]


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    settings = state.settings
    state.comments = CommentLimiter(settings.comment_rate_burst, settings.comment_rate_per_second)
    handler = forward_to_rooms(state)
    state.events.subscribe(CommentChanged, handler)
    stack.callback(state.events.unsubscribe, CommentChanged, handler)


def _limiter(state: AppState) -> CommentLimiter:
    assert state.comments is not None  # set at start-up
    return state.comments


@router.post(
    "/documents/{document_id}/comments",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentOut,
)
async def create_comment(
    payload: CommentCreate,
    access: DocumentCommenter,
    state: State,
    session: DbSession,
    events: PendingEvents,
) -> CommentOut:
    _limiter(state).take(access.principal.user_id)
    comment = await service.create(
        state,
        session,
        access.document,
        access.principal.user_id,
        payload.body,
        payload.anchor,
        payload.parent_id,
    )
    events.add(changed("comment_created", comment))
    events.add(
        CommentPosted(
            document_id=comment.document_id,
            comment_id=comment.id,
            thread_id=comment.thread_id,
            parent_id=comment.parent_id,
            actor_id=access.principal.user_id,
            excerpt=comment.body[:200],
            mentioned_user_ids=tuple(mentioned_ids(comment.body)),
        )
    )
    return comment


@router.get("/documents/{document_id}/comments", response_model=Page[ThreadOut])
async def list_comments(
    access: DocumentViewer,
    state: State,
    session: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    status: Annotated[ThreadStatus, Query()] = "all",
) -> Page[ThreadOut]:
    return await service.list_threads(
        state, session, access.document, access.principal.user_id, status, params
    )


@router.patch("/comments/{comment_id}", response_model=CommentOut)
async def edit_comment(
    payload: CommentUpdate,
    access: CommentAuthor,
    state: State,
    session: DbSession,
    events: PendingEvents,
) -> CommentOut:
    comment = await service.edit(state, session, access.document, access.comment, payload.body)
    events.add(changed("comment_updated", comment))
    return comment


@router.delete("/comments/{comment_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_comment(
    access: CommentDeleter, state: State, session: DbSession, events: PendingEvents
) -> Response:
    for comment in await service.delete(
        state, session, access.document, access.comment, access.user_id
    ):
        events.add(changed("comment_deleted", comment))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/comments/{comment_id}/resolve", response_model=CommentOut)
async def resolve_thread(
    access: ThreadResolver, state: State, session: DbSession, events: PendingEvents
) -> CommentOut:
    thread = await service.set_resolved(
        state, session, access.document, access.comment, access.user_id, resolved=True
    )
    events.add(changed("thread_resolved", thread))
    return thread


@router.post("/comments/{comment_id}/reopen", response_model=CommentOut)
async def reopen_thread(
    access: ThreadResolver, state: State, session: DbSession, events: PendingEvents
) -> CommentOut:
    thread = await service.set_resolved(
        state, session, access.document, access.comment, access.user_id, resolved=False
    )
    events.add(changed("thread_reopened", thread))
    return thread


@router.put("/comments/{comment_id}/reactions/{emoji}", response_model=CommentOut)
async def add_reaction(
    emoji: Emoji, access: CommentReactor, state: State, session: DbSession, events: PendingEvents
) -> CommentOut:
    comment = await service.react(
        state, session, access.document, access.comment, access.user_id, emoji, on=True
    )
    events.add(changed("reaction_changed", comment))
    return comment


@router.delete("/comments/{comment_id}/reactions/{emoji}", response_model=CommentOut)
async def remove_reaction(
    emoji: Emoji, access: CommentReactor, state: State, session: DbSession, events: PendingEvents
) -> CommentOut:
    comment = await service.react(
        state, session, access.document, access.comment, access.user_id, emoji, on=False
    )
    events.add(changed("reaction_changed", comment))
    return comment
