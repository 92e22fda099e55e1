"""SQL for version rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from cowrite.db import RowInsert
from cowrite.models import Document, DocumentVersion
from cowrite.versions.codec import FULL

_INSERT_VERSION = RowInsert(cast(Table, DocumentVersion.__table__))


async def insert_version(session: AsyncSession, values: dict[str, object]) -> None:
    """One version row as a plain insert (no unit of work: nothing reads it back here)."""
    await _INSERT_VERSION(session, values)


async def lock_document(session: AsyncSession, document_id: uuid.UUID) -> None:
    """Serialize writers of one document's history (SQLite already holds the write lock)."""
    await session.execute(select(Document.id).where(Document.id == document_id).with_for_update())


async def latest(session: AsyncSession, document_id: uuid.UUID) -> DocumentVersion | None:
    result = await session.execute(
        select(DocumentVersion)
        .where(DocumentVersion.document_id == document_id)
        .order_by(DocumentVersion.number.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def by_number(
    session: AsyncSession, document_id: uuid.UUID, number: int
) -> DocumentVersion | None:
    result = await session.execute(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document_id, DocumentVersion.number == number
        )
    )
    return result.scalar_one_or_none()


async def chain(
    session: AsyncSession, document_id: uuid.UUID, number: int
) -> Sequence[DocumentVersion]:
    """The rows needed to rebuild version `number`: the nearest whole copy and the deltas after."""
    start = (
        select(func.max(DocumentVersion.number))
        .where(
            DocumentVersion.document_id == document_id,
            DocumentVersion.number <= number,
            DocumentVersion.kind == FULL,
        )
        .scalar_subquery()
    )
    result = await session.execute(
        select(DocumentVersion)
        .where(
            DocumentVersion.document_id == document_id,
            DocumentVersion.number >= start,
            DocumentVersion.number <= number,
        )
        .order_by(DocumentVersion.number)
    )
    return result.scalars().all()


async def page(
    session: AsyncSession, document_id: uuid.UUID, limit: int, before: int | None
) -> Sequence[DocumentVersion]:
    """Newest first; `limit + 1` rows so the caller can tell whether another page follows."""
    query = (
        select(DocumentVersion)
        .options(defer(DocumentVersion.body))
        .where(DocumentVersion.document_id == document_id)
    )
    if before is not None:
        query = query.where(DocumentVersion.number < before)
    result = await session.execute(query.order_by(DocumentVersion.number.desc()).limit(limit + 1))
    return result.scalars().all()


async def stored_bytes(session: AsyncSession, document_id: uuid.UUID) -> int:
    result = await session.execute(
        select(func.coalesce(func.sum(func.length(DocumentVersion.body)), 0)).where(
            DocumentVersion.document_id == document_id
        )
    )
    return int(result.scalar_one())
