"""Documents: create, edit (merging into live co-editing), trash, restore, delete, purge."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cowrite.db import unit_of_work
from cowrite.documents import repository, rich
from cowrite.documents.repository import Viewer
from cowrite.documents.schemas import (
    DocumentFormat,
    DocumentOut,
    DocumentSummary,
    DocumentVisibility,
    TagOut,
    normalize_tag,
    shown_format,
    shown_visibility,
)
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import Conflict, PayloadTooLarge, Unprocessable
from cowrite.kit.events import DocumentAccessChanged, DocumentEdited, DocumentTrashed
from cowrite.kit.ids import new_id
from cowrite.kit.pagination import Page, PageParams, decode_time_cursor, next_cursor_for
from cowrite.models import Document
from cowrite.notifications.repository import follow_created
from cowrite.richtext.schema import RichTextError
from cowrite.state import AppState
from cowrite.versions.service import record_first_version, record_version
from cowrite.webhooks.events import enqueue_event
from cowrite.workspaces.outbox import EventOutbox

log = logging.getLogger(__name__)


def _format(document: Document) -> DocumentFormat:
    return shown_format(document.format)


def _visibility(document: Document) -> DocumentVisibility:
    return shown_visibility(document.visibility)


def _summary(document: Document, tags: list[str]) -> DocumentSummary:
    return DocumentSummary(
        id=document.id,
        workspace_id=document.workspace_id,
        title=document.title,
        tags=tags,
        version=document.version,
        created_by=document.created_by,
        updated_by=document.updated_by,
        created_at=document.created_at,
        updated_at=document.updated_at,
        deleted_at=document.deleted_at,
        format=_format(document),
        visibility=_visibility(document),
    )


async def view(
    session: AsyncSession, document: Document, tags: list[str] | None = None
) -> DocumentOut:
    """The document as the API shows it; `tags` when the caller already loaded them."""
    if tags is None:
        tags = await repository.tags_of_one(session, document.id)
    return DocumentOut(
        id=document.id,
        workspace_id=document.workspace_id,
        title=document.title,
        tags=tags,
        version=document.version,
        created_by=document.created_by,
        updated_by=document.updated_by,
        created_at=document.created_at,
        updated_at=document.updated_at,
        deleted_at=document.deleted_at,
        format=_format(document),
        visibility=_visibility(document),
        content=document.content,
    )


async def fresh_content(
    state: AppState, session: AsyncSession, document: Document, content_behind: bool
) -> str | None:
    """The body with the latest live edits when the saved content lags behind them (it is
    saved after a pause): from the room when it is open in this process, else from the update
    log when that is ahead (`content_behind`); None when the saved content is current."""
    if state.collab is None:
        return None
    live: str | None = state.collab.live_markdown(document.id)
    if live is None and content_behind:
        live = await state.collab.stored_markdown(session, document.id)
    # A REST write merges against what its writer read (block by block into a rich document).
    state.collab.note_read(document.id, document.content if live is None else live)
    return live


def event_data(document: Document, actor_id: uuid.UUID | None) -> dict[str, object]:
    """What a webhook hears about a document."""
    return {
        "document_id": document.id,
        "title": document.title,
        "version": document.version,
        "actor_id": actor_id,
    }


async def enqueue_updated(
    session: AsyncSession, document: Document, actor_id: uuid.UUID | None
) -> None:
    await enqueue_event(
        session,
        document.workspace_id,
        "document.updated",
        event_data(document, actor_id),
        subject=document.id,
    )


def _check_size(state: AppState, content: str) -> None:
    limit = state.settings.max_document_bytes
    if len(content) > limit or len(content.encode()) > limit:
        raise PayloadTooLarge(
            f"Document content is larger than {limit} bytes", code="document_too_large"
        )


async def create_document(
    state: AppState,
    session: AsyncSession,
    workspace_id: uuid.UUID,
    author_id: uuid.UUID,
    title: str,
    content: str,
    tags: Sequence[str],
    format_name: str = "markdown",
    content_json: dict[str, Any] | None = None,
) -> DocumentOut:
    """One transaction writes the document, its tags, version 1, the author's subscription
    and the webhook deliveries: nothing about a create is left for a second one."""
    body = rich.RichWrite.read(state, format_name, content, content_json)
    if body is not None:
        content = body.markdown
    _check_size(state, content)
    now = utcnow()
    # Not added to the session: its rows are written as plain inserts below.
    document = Document(
        id=new_id(),
        workspace_id=workspace_id,
        title=title,
        content=content,
        format=format_name,
        visibility="workspace",
        version=1,
        created_by=author_id,
        updated_by=author_id,
        created_at=now,
        updated_at=now,
        deleted_at=None,
    )
    await repository.insert_new(session, document, tags)
    if body is not None and content_json is not None and state.collab is not None:
        # Seeded from the Markdown, then given what Markdown cannot hold (link targets...).
        await state.collab.replace_rich(session, document.id, body.document, author_id)
    await record_first_version(session, document, author_id)
    await follow_created(session, author_id, document.id)
    await enqueue_event(session, workspace_id, "document.created", event_data(document, author_id))
    if len(tags) <= 1:
        return await view(session, document, list(tags))
    return await view(session, document)  # the tags read back in the database's order


async def update_document(
    state: AppState,
    session: AsyncSession,
    document: Document,
    author_id: uuid.UUID,
    *,
    title: str | None = None,
    content: str | None = None,
    content_json: dict[str, Any] | None = None,
    tags: Sequence[str] | None = None,
    base_version: int | None = None,
    label: str | None = None,
    source: str = "rest",
    outbox: EventOutbox | None = None,
) -> DocumentOut:
    """Apply the given fields; a stale `base_version` is refused. Title or content changes make
    a version (labelled ones always do); REST content merges into the live co-editing session
    (block by block into a rich document's tree)."""
    body = None
    if content_json is not None or (content is not None and state.collab is None):
        body = rich.RichWrite.read(state, document.format, content, content_json)
    if body is not None:
        content = body.markdown
    if content is not None:
        _check_size(state, content)
    document = await repository.lock(session, document)
    if base_version is not None and base_version != document.version:
        raise Conflict(
            f"The document is at version {document.version}, not {base_version}",
            code="version_conflict",
        )
    changed = False
    text_changed = label is not None
    if title is not None and title != document.title:
        document.title = title
        changed = text_changed = True
    if body is not None and content_json is not None:
        if state.collab is not None:
            content = await state.collab.replace_rich(
                session, document.id, body.document, author_id
            )
    elif content is not None and content != document.content and state.collab is not None:
        try:
            # A REST writer read the saved content or a fresher body; a restore makes the
            # document that text whatever anyone read.
            base = None if source == "restore" else document.content
            content = await state.collab.replace_text(
                session, document.id, content, author_id, base=base
            )
        except RichTextError as exc:  # a block the write changed breaks the schema
            raise Unprocessable(str(exc), code="invalid_rich_text") from None
    if content is not None and content != document.content:
        document.content = content
        changed = text_changed = True
    if tags is not None:
        current = (await repository.tags_of(session, [document.id])).get(document.id, [])
        if sorted(current) != sorted(tags):
            await repository.replace_tags(session, document, tags)
            changed = True
    if changed:
        document.version += 1
        document.updated_at = utcnow()
        document.updated_by = author_id
        await session.flush()
        await enqueue_updated(session, document, author_id)
    if text_changed:
        await record_version(
            session,
            document,
            author_id,
            source=source,
            label=label,
            fold_seconds=state.settings.version_fold_seconds,
        )
        if outbox is not None:
            outbox.add(DocumentEdited(document.id, document.workspace_id, author_id))
    return await view(session, document)


async def trash(
    session: AsyncSession, document: Document, user_id: uuid.UUID, outbox: EventOutbox
) -> None:
    """Into the trash; open sockets hear of it once the change is committed."""
    document.deleted_at = utcnow()
    document.deleted_by = user_id
    await session.flush()
    await enqueue_event(
        session, document.workspace_id, "document.deleted", event_data(document, user_id)
    )
    outbox.add(DocumentTrashed(document_id=document.id, workspace_id=document.workspace_id))


async def restore(
    session: AsyncSession,
    document: Document,
    user_id: uuid.UUID | None = None,
    outbox: EventOutbox | None = None,
) -> DocumentOut:
    """Out of the trash: its readers see it again (and what they were told of it)."""
    if document.deleted_at is None:
        raise Conflict("The document is not in the trash", code="not_in_trash")
    document.deleted_at = None
    document.deleted_by = None
    await session.flush()
    await enqueue_event(
        session, document.workspace_id, "document.restored", event_data(document, user_id)
    )
    if outbox is not None:
        outbox.add(
            DocumentAccessChanged(document_id=document.id, workspace_id=document.workspace_id)
        )
    return await view(session, document)


async def delete_permanently(
    session: AsyncSession, document: Document, user_id: uuid.UUID | None = None
) -> None:
    if document.deleted_at is None:
        raise Conflict("Move the document to the trash first", code="not_in_trash")
    data = {**event_data(document, user_id), "permanent": True}
    await enqueue_event(session, document.workspace_id, "document.deleted", data)
    await repository.delete_document(session, document.id)


async def list_documents(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    viewer: Viewer,
    *,
    trashed: bool,
    tag: str | None,
    params: PageParams,
) -> Page[DocumentSummary]:
    rows = await repository.page(
        session,
        workspace_id,
        viewer,
        trashed=trashed,
        tag=normalize_tag(tag) if tag is not None else None,
        limit=params.limit,
        after=decode_time_cursor(params.cursor),
    )

    def key(document: Document) -> tuple[datetime, uuid.UUID]:
        sort = document.deleted_at if trashed else document.updated_at
        assert sort is not None
        return sort, document.id

    items, next_cursor = next_cursor_for(rows, params.limit, key)
    tags = await repository.tags_of(session, [item.id for item in items])
    return Page(
        items=[_summary(item, tags.get(item.id, [])) for item in items], next_cursor=next_cursor
    )


async def tag_counts(
    session: AsyncSession, workspace_id: uuid.UUID, viewer: Viewer
) -> list[TagOut]:
    return [
        TagOut(name=name, count=count)
        for name, count in await repository.tag_counts(session, workspace_id, viewer)
    ]


async def purge_trash(
    session_factory: async_sessionmaker[AsyncSession],
    retention: timedelta,
    *,
    batch_size: int = 200,
) -> int:
    """Delete documents trashed longer ago than `retention`, in short transactions; returns how
    many went."""
    cutoff = utcnow() - retention
    purged = 0
    while True:
        async with unit_of_work(session_factory) as session:
            ids = await repository.trashed_before(session, cutoff, batch_size)
            purged += await repository.delete_documents(session, ids)
        if len(ids) < batch_size:
            return purged
