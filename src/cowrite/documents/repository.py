"""SQL for documents and their tags."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, and_, bindparam, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.db import RowInsert
from cowrite.documents.visibility import visible_to
from cowrite.models import Document, DocumentMember, DocumentTag, Membership, User, Workspace
from cowrite.workspaces.roles import Role

# Who lists a workspace's documents: the caller and their (checked) role in that workspace.
Viewer = tuple[uuid.UUID, Role]


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


_INSERT_DOCUMENT = RowInsert(cast(Table, Document.__table__))
_INSERT_TAG = RowInsert(cast(Table, DocumentTag.__table__))


async def insert_new(session: AsyncSession, document: Document, tags: Sequence[str]) -> None:
    """A new document's row and its tags as plain inserts, written at once: a create needs
    none of the unit of work's bookkeeping (the document is not read back in this session)."""
    await _INSERT_DOCUMENT(
        session,
        {
            "id": document.id,
            "workspace_id": document.workspace_id,
            "title": document.title,
            "content": document.content,
            "format": document.format,
            "visibility": document.visibility,
            "version": document.version,
            "created_by": document.created_by,
            "updated_by": document.updated_by,
            "created_at": document.created_at,
            "updated_at": document.updated_at,
        },
    )
    if tags:
        rows = [
            {"document_id": document.id, "name": name, "workspace_id": document.workspace_id}
            for name in tags
        ]
        await _INSERT_TAG(session, rows)


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
    viewer: Viewer,
    *,
    trashed: bool,
    tag: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> Sequence[Document]:
    """Live documents newest-edited first, or the trash newest-trashed first; `limit + 1` rows."""
    sort = Document.deleted_at if trashed else Document.updated_at
    user_id, role = viewer
    query = select(Document).where(
        Document.workspace_id == workspace_id,
        Document.deleted_at.is_not(None) if trashed else Document.deleted_at.is_(None),
        visible_to(user_id, workspace_role=role),
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


async def tag_counts(
    session: AsyncSession, workspace_id: uuid.UUID, viewer: Viewer
) -> list[tuple[str, int]]:
    """Every tag in the workspace with its number of live documents the viewer may see."""
    user_id, role = viewer
    count = func.count(DocumentTag.document_id)
    result = await session.execute(
        select(DocumentTag.name, count)
        .join(Document, Document.id == DocumentTag.document_id)
        .where(
            DocumentTag.workspace_id == workspace_id,
            Document.deleted_at.is_(None),
            visible_to(user_id, workspace_role=role),
        )
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


# -- people listed on a document --------------------------------------------------------------


async def document_member(
    session: AsyncSession, document_id: uuid.UUID, user_id: uuid.UUID
) -> DocumentMember | None:
    return await session.get(DocumentMember, (document_id, user_id))


async def count_document_members(session: AsyncSession, document_id: uuid.UUID) -> int:
    result = await session.execute(
        select(func.count()).where(DocumentMember.document_id == document_id)
    )
    return int(result.scalar_one())


def _listed(document: Document) -> Select[DocumentMember, User, str]:
    query = (
        select(DocumentMember, User, Membership.role)
        .join(User, User.id == DocumentMember.user_id)
        .outerjoin(
            Membership,
            and_(
                Membership.user_id == DocumentMember.user_id,
                Membership.workspace_id == document.workspace_id,
            ),
        )
        .where(DocumentMember.document_id == document.id)
    )
    return query


async def listed_people(
    session: AsyncSession, document: Document
) -> Sequence[tuple[DocumentMember, User, str | None]]:
    """The people listed on the document with their workspace role (None: a guest)."""
    query = _listed(document).order_by(DocumentMember.added_at, DocumentMember.user_id)
    return [(row[0], row[1], row[2]) for row in await session.execute(query)]


async def listed_person(
    session: AsyncSession, document: Document, user_id: uuid.UUID
) -> tuple[DocumentMember, User, str | None] | None:
    row = (await session.execute(_listed(document).where(User.id == user_id))).first()
    return None if row is None else (row[0], row[1], row[2])


async def shared_with(
    session: AsyncSession, user_id: uuid.UUID, limit: int, after: tuple[datetime, uuid.UUID] | None
) -> Sequence[tuple[Document, str, str, datetime, str | None]]:
    """Live documents the person is listed on, newest listing first: (document, workspace name,
    their document role, when they were listed, their workspace role or None for a guest)."""
    query = (
        select(
            Document, Workspace.name, DocumentMember.role, DocumentMember.added_at, Membership.role
        )
        .join(DocumentMember, DocumentMember.document_id == Document.id)
        .join(Workspace, Workspace.id == Document.workspace_id)
        .outerjoin(
            Membership,
            and_(
                Membership.user_id == DocumentMember.user_id,
                Membership.workspace_id == Document.workspace_id,
            ),
        )
        .where(
            DocumentMember.user_id == user_id,
            Document.deleted_at.is_(None),
            visible_to(user_id),
        )
        .order_by(DocumentMember.added_at.desc(), Document.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        added_at, document_id = after
        query = query.where(
            or_(
                DocumentMember.added_at < added_at,
                and_(DocumentMember.added_at == added_at, Document.id < document_id),
            )
        )
    rows = await session.execute(query)
    return [(row[0], row[1], row[2], row[3], row[4]) for row in rows]


async def user_by_id_or_email(
    session: AsyncSession, user_id: uuid.UUID | None, email: str | None
) -> User | None:
    if user_id is not None:
        return await session.get(User, user_id)
    if email is None:
        return None
    result = await session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()
