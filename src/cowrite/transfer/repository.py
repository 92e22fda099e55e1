"""SQL for exports and imports: a workspace's live documents, tags, version counts, files."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.models import (
    Comment,
    Document,
    DocumentMember,
    DocumentVersion,
    StoredFile,
    User,
    Workspace,
)


async def workspace(session: AsyncSession, workspace_id: uuid.UUID) -> Workspace | None:
    return await session.get(Workspace, workspace_id)


async def live_document_count(session: AsyncSession, workspace_id: uuid.UUID) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(Document)
        .where(Document.workspace_id == workspace_id, Document.deleted_at.is_(None))
    )
    return int(result.scalar_one())


async def live_documents_after(
    session: AsyncSession, workspace_id: uuid.UUID, after: uuid.UUID | None, limit: int
) -> Sequence[Document]:
    """Live documents in id order, one batch at a time."""
    query = (
        select(Document)
        .where(Document.workspace_id == workspace_id, Document.deleted_at.is_(None))
        .order_by(Document.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(Document.id > after)
    return (await session.execute(query)).scalars().all()


async def version_counts(
    session: AsyncSession, document_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    if not document_ids:
        return {}
    result = await session.execute(
        select(DocumentVersion.document_id, func.count())
        .where(DocumentVersion.document_id.in_(list(document_ids)))
        .group_by(DocumentVersion.document_id)
    )
    return {row[0]: int(row[1]) for row in result}


async def comment_counts(
    session: AsyncSession, document_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Comments (threads and replies) not deleted, per document."""
    if not document_ids:
        return {}
    result = await session.execute(
        select(Comment.document_id, func.count())
        .where(Comment.document_id.in_(list(document_ids)), Comment.deleted_at.is_(None))
        .group_by(Comment.document_id)
    )
    return {row[0]: int(row[1]) for row in result}


async def exported_files(session: AsyncSession, workspace_id: uuid.UUID) -> Sequence[StoredFile]:
    """The workspace's files that show: loose, or attached to a live document."""
    result = await session.execute(
        select(StoredFile)
        .outerjoin(Document, Document.id == StoredFile.document_id)
        .where(
            StoredFile.workspace_id == workspace_id,
            or_(StoredFile.document_id.is_(None), Document.deleted_at.is_(None)),
        )
        .order_by(StoredFile.created_at, StoredFile.id)
    )
    return result.scalars().all()


async def files_of_document(session: AsyncSession, document_id: uuid.UUID) -> Sequence[StoredFile]:
    result = await session.execute(
        select(StoredFile).where(StoredFile.document_id == document_id).order_by(StoredFile.id)
    )
    return result.scalars().all()


async def listed_people(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[dict[str, str]]]:
    """The people listed on each document, by email and role, in email order."""
    if not ids:
        return {}
    rows = await session.execute(
        select(DocumentMember.document_id, User.email, DocumentMember.role)
        .join(User, User.id == DocumentMember.user_id)
        .where(DocumentMember.document_id.in_(ids))
        .order_by(DocumentMember.document_id, User.email)
    )
    people: dict[uuid.UUID, list[dict[str, str]]] = {}
    for document_id, email, role in rows:
        people.setdefault(document_id, []).append({"email": email, "role": role})
    return people


async def users_by_email(session: AsyncSession, emails: Sequence[str]) -> dict[str, uuid.UUID]:
    """Accounts for the given emails (compared lower-cased), by lower-cased email."""
    lowered = sorted({email.lower() for email in emails})
    if not lowered:
        return {}
    rows = await session.execute(
        select(User.email, User.id).where(func.lower(User.email).in_(lowered))
    )
    return {email.lower(): user_id for email, user_id in rows}
