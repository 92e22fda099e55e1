"""Comments: create, list threads with live anchors, edit, delete, resolve, react."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.comments import repository
from cowrite.comments.anchors import AnchorError, StoredAnchor, decode_base64
from cowrite.comments.schemas import (
    AnchorIn,
    AnchorOut,
    AuthorOut,
    CommentOut,
    ReactionOut,
    ThreadOut,
)
from cowrite.comments.text import is_single_emoji, mentioned_ids
from cowrite.comments.views import Positions, resolve_anchors, text_view
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import NotFound, Unprocessable
from cowrite.kit.pagination import Page, PageParams, decode_time_cursor, next_cursor_for
from cowrite.models import Comment, Document
from cowrite.state import AppState
from cowrite.webhooks.events import enqueue_event


@dataclass
class Presenter:
    """Turns rows into answers: author names, reactions and anchors fetched once per batch."""

    names: dict[uuid.UUID, str]
    reactions: dict[uuid.UUID, list[tuple[str, int, bool]]]
    positions: Positions

    def anchor(self, comment: Comment) -> AnchorOut | None:
        if comment.anchor_start is None or comment.anchor_end is None:
            return None
        quote = comment.anchor_quote or ""
        where = self.positions.get(comment.id)
        start, end = where if where is not None else (None, None)
        return AnchorOut.model_validate(
            {
                "from": start,
                "to": end,
                "quote": quote,
                "orphaned": where is None,
                "yjs_from": base64.b64encode(comment.anchor_start).decode(),
                "yjs_to": base64.b64encode(comment.anchor_end).decode(),
            }
        )

    def comment(self, comment: Comment) -> CommentOut:
        author = None
        if comment.author_id is not None:
            author = AuthorOut(
                id=comment.author_id, full_name=self.names.get(comment.author_id, "")
            )
        return CommentOut(
            id=comment.id,
            document_id=comment.document_id,
            thread_id=comment.parent_id or comment.id,
            parent_id=comment.parent_id,
            author=author,
            body=comment.body,
            anchor=self.anchor(comment),
            resolved_at=comment.resolved_at,
            resolved_by=comment.resolved_by,
            reactions=[
                ReactionOut(emoji=emoji, count=count, me=me)
                for emoji, count, me in self.reactions.get(comment.id, [])
            ],
            created_at=comment.created_at,
            updated_at=comment.updated_at,
            edited_at=comment.edited_at,
            deleted_at=comment.deleted_at,
        )


async def _presenter(
    state: AppState,
    session: AsyncSession,
    document: Document,
    comments: Sequence[Comment],
    user_id: uuid.UUID,
    known: Positions | None = None,
) -> Presenter:
    anchors = [
        (c.id, c.anchor_start, c.anchor_end)
        for c in comments
        if c.anchor_start is not None and c.anchor_end is not None and c.id not in (known or {})
    ]
    positions = {**(known or {}), **await resolve_anchors(state, session, document, anchors)}
    authors = {c.author_id for c in comments if c.author_id is not None}
    return Presenter(
        names=await repository.names(session, authors),
        reactions=await repository.reactions(session, [c.id for c in comments], user_id),
        positions=positions,
    )


async def present(
    state: AppState,
    session: AsyncSession,
    document: Document,
    comment: Comment,
    user_id: uuid.UUID,
    known: Positions | None = None,
) -> CommentOut:
    """One comment as answered; `known`: anchor positions already at hand."""
    presenter = await _presenter(state, session, document, [comment], user_id, known)
    return presenter.comment(comment)


async def _anchor_of(
    state: AppState, session: AsyncSession, document: Document, anchor: AnchorIn
) -> StoredAnchor:
    view = await text_view(state, session, document, seed=True)
    try:
        if anchor.from_ is not None and anchor.to is not None:
            placed = view.place(anchor.from_, anchor.to)
        else:
            assert anchor.yjs_from is not None and anchor.yjs_to is not None
            placed = view.adopt(decode_base64(anchor.yjs_from), decode_base64(anchor.yjs_to))
    except AnchorError as exc:
        raise Unprocessable(str(exc), code="invalid_anchor") from None
    return placed


async def _mentions(session: AsyncSession, comment: Comment) -> None:
    members = await repository.readers_among(
        session, comment.document_id, mentioned_ids(comment.body)
    )
    await repository.replace_mentions(session, comment, members)


async def create(
    state: AppState,
    session: AsyncSession,
    document: Document,
    author_id: uuid.UUID,
    body: str,
    anchor: AnchorIn | None,
    parent_id: uuid.UUID | None,
) -> CommentOut:
    if parent_id is not None:
        parent = await repository.get(session, parent_id)
        if parent is None or parent.document_id != document.id:
            raise NotFound("Parent comment not found", code="not_found")
        if parent.parent_id is not None:
            raise Unprocessable("Replies take no replies: answer the thread", code="nested_reply")
        if anchor is not None:
            raise Unprocessable("A reply carries no anchor", code="invalid_anchor")
        if parent.deleted_at is not None:
            raise Unprocessable("The thread's first comment was deleted", code="thread_deleted")
    placed = None if anchor is None else await _anchor_of(state, session, document, anchor)
    now = utcnow()
    comment = Comment(
        document_id=document.id,
        workspace_id=document.workspace_id,
        parent_id=parent_id,
        author_id=author_id,
        body=body,
        anchor_start=placed.start if placed else None,
        anchor_end=placed.end if placed else None,
        anchor_quote=placed.quote if placed else None,
        created_at=now,
        updated_at=now,
    )
    session.add(comment)
    await session.flush()
    await _mentions(session, comment)
    await enqueue_event(
        session, document.workspace_id, "comment.created", _event_data(document, comment, author_id)
    )
    known: Positions = {}
    if placed is not None:  # just placed on the text at hand: no need to read it again
        known[comment.id] = (placed.start_offset, placed.end_offset)
    return await present(state, session, document, comment, author_id, known)


async def list_threads(
    state: AppState,
    session: AsyncSession,
    document: Document,
    user_id: uuid.UUID,
    status: str,
    params: PageParams,
) -> Page[ThreadOut]:
    rows = await repository.threads(
        session,
        document.id,
        status=status,
        after=decode_time_cursor(params.cursor),
        limit=params.limit,
    )
    threads, next_cursor = next_cursor_for(rows, params.limit, lambda c: (c.created_at, c.id))
    replies = await repository.replies(session, [t.id for t in threads])
    presenter = await _presenter(state, session, document, [*threads, *replies], user_id)
    by_thread: dict[uuid.UUID, list[CommentOut]] = {t.id: [] for t in threads}
    for reply in replies:
        assert reply.parent_id is not None
        by_thread[reply.parent_id].append(presenter.comment(reply))
    items = [
        ThreadOut(**presenter.comment(t).model_dump(), replies=by_thread[t.id]) for t in threads
    ]
    return Page(items=items, next_cursor=next_cursor)


async def edit(
    state: AppState, session: AsyncSession, document: Document, comment: Comment, body: str
) -> CommentOut:
    if comment.deleted_at is not None:
        raise NotFound("Comment not found", code="not_found")
    now = utcnow()
    comment.body = body
    comment.edited_at = comment.updated_at = now
    await session.flush()
    await _mentions(session, comment)
    assert comment.author_id is not None
    return await present(state, session, document, comment, comment.author_id)


async def delete(
    state: AppState,
    session: AsyncSession,
    document: Document,
    comment: Comment,
    user_id: uuid.UUID,
) -> list[CommentOut]:
    """Remove a comment; a thread's first comment with replies stays as a placeholder. The
    comments as they are now gone (or emptied), for the live event."""
    now = utcnow()
    if comment.parent_id is None and await repository.reply_count(session, comment.id):
        comment.body = ""
        comment.deleted_at = comment.updated_at = now
        await repository.replace_mentions(session, comment, set())
        await session.flush()
        return [await present(state, session, document, comment, user_id)]
    gone = [await present(state, session, document, comment, user_id)]
    await repository.delete_comment(session, comment.id)
    if comment.parent_id is not None:
        parent = await repository.get(session, comment.parent_id)
        if (
            parent is not None
            and parent.deleted_at is not None
            and not await repository.reply_count(session, parent.id)
        ):
            gone.append(await present(state, session, document, parent, user_id))
            await repository.delete_comment(session, parent.id)
    for out in gone:
        out.deleted_at = out.deleted_at or now
    return gone


def _event_data(document: Document, comment: Comment, actor_id: uuid.UUID) -> dict[str, object]:
    """What a webhook receiver is told of a comment (the body stays in cowrite)."""
    return {
        "document_id": document.id,
        "comment_id": comment.id,
        "thread_id": comment.parent_id or comment.id,
        "actor_id": actor_id,
    }


async def set_resolved(
    state: AppState,
    session: AsyncSession,
    document: Document,
    thread: Comment,
    user_id: uuid.UUID,
    *,
    resolved: bool,
) -> CommentOut:
    if resolved and thread.resolved_at is None:
        thread.resolved_at = utcnow()
        thread.resolved_by = user_id
        await enqueue_event(
            session,
            document.workspace_id,
            "comment.resolved",
            _event_data(document, thread, user_id),
        )
    elif not resolved and thread.resolved_at is not None:
        thread.resolved_at = None
        thread.resolved_by = None
    await session.flush()
    return await present(state, session, document, thread, user_id)


def check_emoji(emoji: str) -> str:
    if not is_single_emoji(emoji):
        raise Unprocessable("A reaction is one emoji", code="invalid_emoji")
    return emoji


async def react(
    state: AppState,
    session: AsyncSession,
    document: Document,
    comment: Comment,
    user_id: uuid.UUID,
    emoji: str,
    *,
    on: bool,
) -> CommentOut:
    if comment.deleted_at is not None:
        raise NotFound("Comment not found", code="not_found")
    if on:
        await repository.add_reaction(session, comment.id, user_id, check_emoji(emoji))
    else:
        await repository.remove_reaction(session, comment.id, user_id, emoji)
    return await present(state, session, document, comment, user_id)
