"""SQL for notifications, document subscriptions and notification preferences."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, TypeVarTuple, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Uuid,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from cowrite.db import RowInsert
from cowrite.documents.visibility import UserRef, member_of_live, viewers_among, visible_to
from cowrite.kit.clock import utcnow
from cowrite.models import (
    Comment,
    Document,
    DocumentMember,
    DocumentSubscription,
    Membership,
    Notification,
    NotificationPreferences,
    User,
    Workspace,
)

Column = ColumnElement[Any] | InstrumentedAttribute[Any]

# -- what a reader may see, at read time ------------------------------------------------------


def _seen_by(
    reader: UserRef,
    workspace_id: Column = Notification.workspace_id,
    document_id: Column = Notification.document_id,
) -> ColumnElement[bool]:
    """The one visibility rule over notifications outer-joined to their document (the columns
    of the notifications table, or of a subquery of it): one about a document while the reader
    may see the document and it is not in the trash; one about a workspace while they are a
    member of it and it is live."""
    return or_(
        and_(document_id.is_(None), member_of_live(reader, workspace_id)),
        and_(document_id.is_not(None), Document.deleted_at.is_(None), visible_to(reader)),
    )


Row = TypeVarTuple("Row")


def _seen(query: Select[*Row], reader: UserRef) -> Select[*Row]:
    """`query` over the notifications table, kept to those `reader` may see (their own)."""
    return query.outerjoin(Document, Document.id == Notification.document_id).where(
        Notification.user_id == reader, _seen_by(reader)
    )


# Polled by every open tab: built once, and answered from the partial unread index (each
# entry's document looked up by its key, the caller's memberships and listings read once).
_READER = bindparam("user_id", type_=Uuid())
UNREAD_COUNT = _seen(
    select(func.count()).select_from(Notification).where(Notification.read_at.is_(None)), _READER
)


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    return int((await session.execute(UNREAD_COUNT, {"user_id": user_id})).scalar_one())


async def page(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    unread: bool,
    limit: int,
    before: tuple[datetime, uuid.UUID] | None,
) -> list[tuple[Notification, str | None]]:
    """Newest first, with the actor's name; `limit` rows after the cursor `before`."""
    query = _seen(
        select(Notification, User.full_name).outerjoin(User, User.id == Notification.actor_id),
        user_id,
    )
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if before is not None:
        created, row_id = before
        query = query.where(
            or_(
                Notification.created_at < created,
                and_(Notification.created_at == created, Notification.id < row_id),
            )
        )
    query = query.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


# Names read in this transaction (`user_name`), so the frames of what it wrote name the actor
# without asking again.
_NAMES = "cowrite.notifications.names"


def _known_names(session: AsyncSession) -> dict[uuid.UUID, str]:
    names: dict[uuid.UUID, str] = session.info.setdefault(_NAMES, {})
    return names


async def with_actor_names(
    session: AsyncSession, notifications: Sequence[Notification]
) -> list[tuple[Notification, str | None]]:
    known = _known_names(session)
    actor_ids = {n.actor_id for n in notifications if n.actor_id is not None}
    names = {user_id: known[user_id] for user_id in actor_ids & known.keys()}
    if actor_ids - names.keys():
        rows = await session.execute(
            select(User.id, User.full_name).where(User.id.in_(actor_ids - names.keys()))
        )
        names.update({row[0]: row[1] for row in rows.all()})
    return [(n, names.get(n.actor_id) if n.actor_id else None) for n in notifications]


async def own(
    session: AsyncSession, user_id: uuid.UUID, notification_id: uuid.UUID
) -> Notification | None:
    """The caller's notification, while they may see it."""
    query = _seen(select(Notification), user_id).where(Notification.id == notification_id)
    return (await session.execute(query)).scalar_one_or_none()


async def seen_among(
    session: AsyncSession, user_id: uuid.UUID, notification_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of the user's `notification_ids` they may see now."""
    if not notification_ids:
        return set()
    query = _seen(select(Notification.id), user_id).where(
        Notification.id.in_(list(notification_ids))
    )
    return set((await session.execute(query)).scalars())


async def mark_all_read(session: AsyncSession, user_id: uuid.UUID, before: datetime | None) -> int:
    """Mark read every unread notification the user may see (made up to `before`, if given)."""
    unread = _seen(select(Notification.id), user_id).where(Notification.read_at.is_(None))
    if before is not None:
        unread = unread.where(Notification.created_at <= before)
    now = utcnow()
    result = await session.execute(
        update(Notification)
        .where(Notification.id.in_(unread.scalar_subquery()))
        .values(read_at=now, mail_due_at=None)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount


async def delete_read_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    ids = select(Notification.id).where(Notification.read_at < cutoff).limit(limit)
    result = await session.execute(
        delete(Notification)
        .where(Notification.id.in_(ids.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount


# -- who may see what, at delivery time -------------------------------------------------------


async def members_who_see(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    document_id: uuid.UUID | None,
    user_ids: Collection[uuid.UUID],
) -> set[uuid.UUID]:
    """Those of `user_ids` who are members of the live workspace or, with a document, who may
    see it while it is live (the one visibility rule: guests listed on it included)."""
    if not user_ids:
        return set()
    if document_id is not None:
        query = viewers_among(document_id, user_ids).where(Document.workspace_id == workspace_id)
        return set((await session.execute(query)).scalars())
    members = (
        select(Membership.user_id)
        .join(Workspace, Workspace.id == Membership.workspace_id)
        .where(
            Membership.workspace_id == workspace_id,
            Membership.user_id.in_(list(user_ids)),
            Workspace.deleted_at.is_(None),
        )
    )
    return set((await session.execute(members)).scalars())


async def admins(session: AsyncSession, workspace_id: uuid.UUID) -> set[uuid.UUID]:
    """The admins and owners of a live workspace."""
    query = (
        select(Membership.user_id)
        .join(Workspace, Workspace.id == Membership.workspace_id)
        .where(
            Membership.workspace_id == workspace_id,
            Membership.role.in_(("admin", "owner")),
            Workspace.deleted_at.is_(None),
        )
    )
    return set((await session.execute(query)).scalars())


async def document_title(
    session: AsyncSession, document_id: uuid.UUID
) -> tuple[uuid.UUID, str] | None:
    """(workspace_id, title) of a document, or None when it is gone."""
    row = (
        await session.execute(
            select(Document.workspace_id, Document.title).where(Document.id == document_id)
        )
    ).first()
    return None if row is None else (row[0], row[1])


async def workspace_name(session: AsyncSession, workspace_id: uuid.UUID) -> str | None:
    result = await session.execute(select(Workspace.name).where(Workspace.id == workspace_id))
    return result.scalar_one_or_none()


async def user_name(session: AsyncSession, user_id: uuid.UUID) -> str | None:
    result = await session.execute(select(User.full_name).where(User.id == user_id))
    name = result.scalar_one_or_none()
    if name is not None:
        _known_names(session)[user_id] = name
    return name


# -- following --------------------------------------------------------------------------------


async def subscription(
    session: AsyncSession, user_id: uuid.UUID, document_id: uuid.UUID
) -> DocumentSubscription | None:
    return await session.get(DocumentSubscription, (user_id, document_id))


def _insert(session: AsyncSession) -> Any:
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert


async def follow_if_new(session: AsyncSession, user_id: uuid.UUID, document_id: uuid.UUID) -> None:
    """Follow a document one created or edited, unless one already follows or muted it."""
    statement = (
        _insert(session)(DocumentSubscription)
        .values(user_id=user_id, document_id=document_id, following=True, updated_at=utcnow())
        .on_conflict_do_nothing()
    )
    await session.execute(statement)


_INSERT_SUBSCRIPTION = RowInsert(cast(Table, DocumentSubscription.__table__))


async def follow_created(session: AsyncSession, user_id: uuid.UUID, document_id: uuid.UUID) -> None:
    """The creator follows a document made in this transaction: written with it, as a plain
    insert (nobody can have followed or muted it yet)."""
    values = {
        "user_id": user_id,
        "document_id": document_id,
        "following": True,
        "updated_at": utcnow(),
    }
    await _INSERT_SUBSCRIPTION(session, values)


async def set_following(
    session: AsyncSession, user_id: uuid.UUID, document_id: uuid.UUID, following: bool
) -> None:
    now = utcnow()
    statement = _insert(session)(DocumentSubscription).values(
        user_id=user_id, document_id=document_id, following=following, updated_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["user_id", "document_id"],
        set_={"following": following, "updated_at": now},
    )
    await session.execute(statement)


async def subscriptions(
    session: AsyncSession, document_id: uuid.UUID, user_ids: Collection[uuid.UUID] | None = None
) -> dict[uuid.UUID, bool]:
    """{user_id: following} of a document's subscriptions (of `user_ids`, when given)."""
    query = select(DocumentSubscription.user_id, DocumentSubscription.following).where(
        DocumentSubscription.document_id == document_id
    )
    if user_ids is not None:
        if not user_ids:
            return {}
        query = query.where(DocumentSubscription.user_id.in_(list(user_ids)))
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


async def recent_of_kind(
    session: AsyncSession, document_id: uuid.UUID, kind: str, since: datetime
) -> dict[uuid.UUID, Notification]:
    """Per recipient, the latest notification of `kind` about a document made since `since`."""
    result = await session.execute(
        select(Notification)
        .where(
            Notification.document_id == document_id,
            Notification.kind == kind,
            Notification.created_at >= since,
        )
        .order_by(Notification.created_at)
    )
    return {notification.user_id: notification for notification in result.scalars()}


# -- preferences ------------------------------------------------------------------------------


async def preferences(
    session: AsyncSession, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, NotificationPreferences]:
    if not user_ids:
        return {}
    result = await session.execute(
        select(NotificationPreferences).where(NotificationPreferences.user_id.in_(list(user_ids)))
    )
    return {row.user_id: row for row in result.scalars()}


async def emails(session: AsyncSession, user_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not user_ids:
        return {}
    result = await session.execute(select(User.id, User.email).where(User.id.in_(list(user_ids))))
    return {row[0]: row[1] for row in result.all()}


def unread_counts_query(user_ids: Collection[uuid.UUID]) -> Select[uuid.UUID, int]:
    """(user_id, unread) of those of `user_ids` with any they may see: each one's entries of the
    unread index, counted per workspace and document first, so the rule is asked once per
    person and document rather than once per notification."""
    unread = (
        select(
            Notification.user_id,
            Notification.workspace_id,
            Notification.document_id,
            func.count().label("unread"),
        )
        .where(Notification.user_id.in_(list(user_ids)), Notification.read_at.is_(None))
        .group_by(Notification.user_id, Notification.workspace_id, Notification.document_id)
        .subquery()
    )
    return (
        select(unread.c.user_id, func.sum(unread.c.unread))
        .select_from(unread)
        .outerjoin(Document, Document.id == unread.c.document_id)
        .where(_seen_by(unread.c.user_id, unread.c.workspace_id, unread.c.document_id))
        .group_by(unread.c.user_id)
    )


async def unread_counts(
    session: AsyncSession, user_ids: Collection[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Every given user's unread count (zero included), in one query."""
    if not user_ids:
        return {}
    result = await session.execute(unread_counts_query(user_ids))
    counts = {row[0]: int(row[1]) for row in result.all()}
    return {user_id: counts.get(user_id, 0) for user_id in user_ids}


async def unread_about_document(session: AsyncSession, document_id: uuid.UUID) -> set[uuid.UUID]:
    """Who has unread notifications about a document: whose counts follow who may see it."""
    result = await session.execute(
        select(Notification.user_id)
        .where(Notification.document_id == document_id, Notification.read_at.is_(None))
        .distinct()
    )
    return set(result.scalars())


async def people_of_workspace(session: AsyncSession, workspace_id: uuid.UUID) -> set[uuid.UUID]:
    """Its members and the people listed on its documents (it may be deleted already)."""
    members = select(Membership.user_id).where(Membership.workspace_id == workspace_id)
    listed = (
        select(DocumentMember.user_id)
        .join(Document, Document.id == DocumentMember.document_id)
        .where(Document.workspace_id == workspace_id)
    )
    return set((await session.execute(union(members, listed))).scalars())


async def thread_participants(session: AsyncSession, thread_id: uuid.UUID) -> set[uuid.UUID]:
    """Who wrote in a thread: its first comment's author and every replier."""
    result = await session.execute(
        select(Comment.author_id)
        .where(or_(Comment.id == thread_id, Comment.parent_id == thread_id))
        .where(Comment.author_id.is_not(None))
        .distinct()
    )
    return {row for row in result.scalars() if row is not None}
