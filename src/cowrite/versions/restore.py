"""Bring back an old version: it becomes the document's text again, as a new version."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents import service as documents
from cowrite.documents.schemas import DocumentOut
from cowrite.models import Document
from cowrite.state import AppState
from cowrite.versions import service
from cowrite.workspaces.outbox import EventOutbox


async def restore_version(
    state: AppState,
    session: AsyncSession,
    document: Document,
    author_id: uuid.UUID,
    number: int,
    outbox: EventOutbox | None = None,
) -> DocumentOut:
    version, text = await service.get_version(session, document.id, number)
    return await documents.update_document(
        state,
        session,
        document,
        author_id,
        title=version.title,
        content=text,
        label=f"Restored from version {number}",
        source="restore",
        outbox=outbox,
    )
