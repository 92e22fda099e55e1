"""SQL for file metadata rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents.visibility import visible_to
from cowrite.models import Document, StoredFile, Workspace


def _document_is_live() -> ColumnElement[bool]:
    """A file shows while it is loose or its document is out of the trash."""
    return or_(StoredFile.document_id.is_(None), Document.deleted_at.is_(None))


async def visible_file(session: AsyncSession, file_id: uuid.UUID) -> StoredFile | None:
    """The file unless its document is in the trash (the workspace is checked with the role)."""
    result = await session.execute(
        select(StoredFile)
        .outerjoin(Document, Document.id == StoredFile.document_id)
        .where(StoredFile.id == file_id, _document_is_live())
    )
    return result.scalar_one_or_none()


async def live_document_in_workspace(
    session: AsyncSession, workspace_id: uuid.UUID, document_id: uuid.UUID, user_id: uuid.UUID
) -> bool:
    """The document is live, in the workspace, and the user may see it."""
    result = await session.execute(
        select(Document.id).where(
            Document.id == document_id,
            Document.workspace_id == workspace_id,
            Document.deleted_at.is_(None),
            visible_to(user_id),
        )
    )
    return result.scalar_one_or_none() is not None


async def lock_live_workspace(session: AsyncSession, workspace_id: uuid.UUID) -> bool:
    """Serialize quota checks of one workspace (PostgreSQL row lock; SQLite's write lock is
    already held); False when the workspace is gone."""
    result = await session.execute(
        select(Workspace.id)
        .where(Workspace.id == workspace_id, Workspace.deleted_at.is_(None))
        .with_for_update()
    )
    return result.scalar_one_or_none() is not None


async def workspace_usage(session: AsyncSession, workspace_id: uuid.UUID) -> int:
    result = await session.execute(
        select(func.coalesce(func.sum(StoredFile.size), 0)).where(
            StoredFile.workspace_id == workspace_id
        )
    )
    return int(result.scalar_one())


async def list_files(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    *,
    document_id: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[StoredFile]:
    """Newest first, keyset-paginated on (created_at, id); files of documents hidden from the
    user are left out."""
    query = (
        select(StoredFile)
        .outerjoin(Document, Document.id == StoredFile.document_id)
        .where(
            StoredFile.workspace_id == workspace_id,
            _document_is_live(),
            or_(StoredFile.document_id.is_(None), visible_to(user_id)),
        )
    )
    if document_id is not None:
        query = query.where(StoredFile.document_id == document_id)
    if after is not None:
        created_at, file_id = after
        query = query.where(
            or_(
                StoredFile.created_at < created_at,
                and_(StoredFile.created_at == created_at, StoredFile.id < file_id),
            )
        )
    query = query.order_by(StoredFile.created_at.desc(), StoredFile.id.desc()).limit(limit)
    return (await session.execute(query)).scalars().all()


async def delete_file(session: AsyncSession, file_id: uuid.UUID) -> None:
    await session.execute(delete(StoredFile).where(StoredFile.id == file_id))


async def known_keys(session: AsyncSession, keys: Sequence[str]) -> set[str]:
    """Which of these storage keys some row refers to."""
    if not keys:
        return set()
    result = await session.execute(
        select(StoredFile.storage_key).where(StoredFile.storage_key.in_(keys))
    )
    return set(result.scalars().all())


async def storage_keys_after(
    session: AsyncSession, after: uuid.UUID | None, limit: int
) -> list[tuple[uuid.UUID, str]]:
    """(file id, storage key) pairs in id order, after `after`."""
    query = select(StoredFile.id, StoredFile.storage_key).order_by(StoredFile.id).limit(limit)
    if after is not None:
        query = query.where(StoredFile.id > after)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def delete_files(session: AsyncSession, file_ids: Sequence[uuid.UUID]) -> None:
    if file_ids:
        await session.execute(delete(StoredFile).where(StoredFile.id.in_(file_ids)))
