"""SQL for documents and their tags."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.models import Document, DocumentTag


async def lock(session: AsyncSession, document: Document) -> Document:
    """Re-read the document under a row lock so concurrent writers take turns."""
    result = await session.execute(
        select(Document)
        .where(Document.id == document.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one()


async def tags_of(
    session: AsyncSession, document_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    tags: dict[uuid.UUID, list[str]] = defaultdict(list)
    if not document_ids:
        return tags
    result = await session.execute(
        select(DocumentTag.document_id, DocumentTag.name)
        .where(DocumentTag.document_id.in_(list(document_ids)))
        .order_by(DocumentTag.name)
    )
    for document_id, name in result:
        tags[document_id].append(name)
    return tags


_TAGS_OF_ONE = (
    select(DocumentTag.name)
    .where(DocumentTag.document_id == bindparam("document_id"))
    .order_by(DocumentTag.name)
)


async def tags_of_one(session: AsyncSession, document_id: uuid.UUID) -> list[str]:
    """One document's tags, sorted; a statement built once for the single-document hot path."""
    result = await session.execute(_TAGS_OF_ONE, {"document_id": document_id})
    return list(result.scalars())


async def replace_tags(session: AsyncSession, document: Document, names: Sequence[str]) -> None:
    await session.execute(delete(DocumentTag).where(DocumentTag.document_id == document.id))
    session.add_all(
        DocumentTag(document_id=document.id, name=name, workspace_id=document.workspace_id)
        for name in names
    )
    await session.flush()


async def page(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    *,
    trashed: bool,
    tag: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Sequence[Document]:
    """Live documents newest-edited first, or the trash newest-trashed first; `limit + 1` rows."""
    sort = Document.deleted_at if trashed else Document.updated_at
    query = select(Document).where(
        Document.workspace_id == workspace_id,
        Document.deleted_at.is_not(None) if trashed else Document.deleted_at.is_(None),
    )
    if tag is not None:
        query = query.where(
            select(DocumentTag.document_id)
            .where(DocumentTag.document_id == Document.id, DocumentTag.name == tag)
            .exists()
        )
    if after is not None:
        value, row_id = after
        query = query.where(or_(sort < value, and_(sort == value, Document.id < row_id)))
    result = await session.execute(query.order_by(sort.desc(), Document.id.desc()).limit(limit + 1))
    return result.scalars().all()


async def tag_counts(session: AsyncSession, workspace_id: uuid.UUID) -> list[tuple[str, int]]:
    """Every tag in the workspace with its number of live documents."""
    count = func.count(DocumentTag.document_id)
    result = await session.execute(
        select(DocumentTag.name, count)
        .join(Document, Document.id == DocumentTag.document_id)
        .where(DocumentTag.workspace_id == workspace_id, Document.deleted_at.is_(None))
        .group_by(DocumentTag.name)
        .order_by(DocumentTag.name)
    )
    return [(name, int(n)) for name, n in result]


async def delete_document(session: AsyncSession, document_id: uuid.UUID) -> None:
    """Remove a document for good; its tags, versions and search entry go with it."""
    await session.execute(delete(Document).where(Document.id == document_id))


async def trashed_before(session: AsyncSession, cutoff: datetime, limit: int) -> list[uuid.UUID]:
    result = await session.execute(
        select(Document.id)
        .where(Document.deleted_at.is_not(None), Document.deleted_at < cutoff)
        .order_by(Document.deleted_at)
        .limit(limit)
    )
    return list(result.scalars())


async def delete_documents(session: AsyncSession, document_ids: Sequence[uuid.UUID]) -> int:
    if not document_ids:
        return 0
    result = await session.execute(delete(Document).where(Document.id.in_(list(document_ids))))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount
