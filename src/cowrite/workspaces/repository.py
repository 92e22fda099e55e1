"""SQL for workspaces and memberships."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.models import Document, DocumentMember, Membership, User, Workspace
from cowrite.workspaces.roles import Role


async def lock_live_workspace(session: AsyncSession, workspace_id: uuid.UUID) -> Workspace | None:
    """The live workspace, locked until commit, so membership changes in it happen one at a time
    (PostgreSQL row lock; on SQLite every transaction already holds the write lock)."""
    result = await session.execute(
        select(Workspace)
        .where(Workspace.id == workspace_id, Workspace.deleted_at.is_(None))
        .with_for_update()
    )
    return result.scalar_one_or_none()


async def workspaces_of_user(
    session: AsyncSession,
    user_id: uuid.UUID,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> Sequence[tuple[Workspace, str]]:
    """The user's live workspaces with their role, newest first; `limit` rows at most."""
    query = (
        select(Workspace, Membership.role)
        .join(Membership, Membership.workspace_id == Workspace.id)
        .where(Membership.user_id == user_id, Workspace.deleted_at.is_(None))
        .order_by(Workspace.created_at.desc(), Workspace.id.desc())
        .limit(limit)
    )
    if after is not None:
        created_at, workspace_id = after
        query = query.where(
            or_(
                Workspace.created_at < created_at,
                and_(Workspace.created_at == created_at, Workspace.id < workspace_id),
            )
        )
    result = await session.execute(query)
    return [(row[0], row[1]) for row in result.all()]


async def membership(
    session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
) -> Membership | None:
    return await session.get(Membership, (workspace_id, user_id))


async def member(
    session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Membership, User] | None:
    result = await session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id, Membership.user_id == user_id)
    )
    row = result.first()
    return None if row is None else (row[0], row[1])


async def members(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None = None,
) -> Sequence[tuple[Membership, User]]:
    """Members in the order they joined; `limit` rows at most."""
    query = (
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.workspace_id == workspace_id)
        .order_by(Membership.joined_at, Membership.user_id)
        .limit(limit)
    )
    if after is not None:
        joined_at, user_id = after
        query = query.where(
            or_(
                Membership.joined_at > joined_at,
                and_(Membership.joined_at == joined_at, Membership.user_id > user_id),
            )
        )
    result = await session.execute(query)
    return [(row[0], row[1]) for row in result.all()]


async def count_owners(session: AsyncSession, workspace_id: uuid.UUID) -> int:
    result = await session.execute(
        select(func.count())
        .select_from(Membership)
        .where(Membership.workspace_id == workspace_id, Membership.role == Role.OWNER.value)
    )
    return int(result.scalar_one())


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()


async def purge_deleted_workspaces(
    session: AsyncSession, deleted_before: datetime, limit: int
) -> list[uuid.UUID]:
    """Remove up to `limit` workspaces soft-deleted before the given time, for good. Their
    memberships, documents and file rows go with them (ON DELETE CASCADE)."""
    result = await session.execute(
        select(Workspace.id)
        .where(Workspace.deleted_at.is_not(None), Workspace.deleted_at < deleted_before)
        .order_by(Workspace.deleted_at)
        .limit(limit)
    )
    ids = list(result.scalars())
    if ids:
        await session.execute(delete(Workspace).where(Workspace.id.in_(ids)))
    return ids


async def drop_document_listings(
    session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """Take someone off every document of the workspace (they leave it: they do not stay on as
    a guest)."""
    documents = select(Document.id).where(Document.workspace_id == workspace_id)
    await session.execute(
        delete(DocumentMember)
        .where(DocumentMember.user_id == user_id, DocumentMember.document_id.in_(documents))
        .execution_options(synchronize_session=False)
    )
