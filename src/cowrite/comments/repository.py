"""SQL for comments, their reactions and mentions."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents.visibility import viewers_among
from cowrite.kit.clock import utcnow
from cowrite.models import Comment, CommentMention, CommentReaction, User


async def get(session: AsyncSession, comment_id: uuid.UUID) -> Comment | None:
    return await session.get(Comment, comment_id)


async def lock(session: AsyncSession, comment_id: uuid.UUID) -> Comment | None:
    """Re-read under a row lock, so concurrent changes of one thread take turns."""
    result = await session.execute(
        select(Comment)
        .where(Comment.id == comment_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def threads(
    session: AsyncSession,
    document_id: uuid.UUID,
    *,
    status: str,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Comment]:
    """First comments of the document's threads, oldest first; `limit + 1` rows."""
    query = select(Comment).where(Comment.document_id == document_id, Comment.parent_id.is_(None))
    if status == "open":
        query = query.where(Comment.resolved_at.is_(None))
    elif status == "resolved":
        query = query.where(Comment.resolved_at.is_not(None))
    if after is not None:
        created_at, row_id = after
        query = query.where(
            or_(
                Comment.created_at > created_at,
                and_(Comment.created_at == created_at, Comment.id > row_id),
            )
        )
    query = query.order_by(Comment.created_at, Comment.id).limit(limit + 1)
    return (await session.execute(query)).scalars().all()


async def replies(session: AsyncSession, thread_ids: Sequence[uuid.UUID]) -> list[Comment]:
    if not thread_ids:
        return []
    result = await session.execute(
        select(Comment)
        .where(Comment.parent_id.in_(list(thread_ids)))
        .order_by(Comment.created_at, Comment.id)
    )
    return list(result.scalars())


async def reply_count(session: AsyncSession, thread_id: uuid.UUID) -> int:
    result = await session.execute(
        select(func.count()).select_from(Comment).where(Comment.parent_id == thread_id)
    )
    return int(result.scalar_one())


async def names(session: AsyncSession, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not user_ids:
        return {}
    result = await session.execute(
        select(User.id, User.full_name).where(User.id.in_(list(user_ids)))
    )
    return {row.id: row.full_name for row in result}


async def reactions(
    session: AsyncSession, comment_ids: Sequence[uuid.UUID], user_id: uuid.UUID
) -> dict[uuid.UUID, list[tuple[str, int, bool]]]:
    """Per comment: (emoji, count, whether `user_id` is among them), in order of first use."""
    found: dict[uuid.UUID, list[tuple[str, int, bool]]] = defaultdict(list)
    if not comment_ids:
        return found
    result = await session.execute(
        select(
            CommentReaction.comment_id,
            CommentReaction.emoji,
            CommentReaction.user_id,
            CommentReaction.created_at,
        )
        .where(CommentReaction.comment_id.in_(list(comment_ids)))
        .order_by(CommentReaction.created_at, CommentReaction.emoji)
    )
    tally: dict[uuid.UUID, dict[str, list[int]]] = defaultdict(dict)
    for comment_id, emoji, reactor, _at in result:
        counts = tally[comment_id].setdefault(emoji, [0, 0])
        counts[0] += 1
        if reactor == user_id:
            counts[1] = 1
    for comment_id, by_emoji in tally.items():
        found[comment_id] = [(emoji, n, bool(me)) for emoji, (n, me) in by_emoji.items()]
    return found


async def add_reaction(
    session: AsyncSession, comment_id: uuid.UUID, user_id: uuid.UUID, emoji: str
) -> None:
    """Insert unless the same user already reacted with this emoji (idempotent PUT)."""
    values = {"comment_id": comment_id, "user_id": user_id, "emoji": emoji, "created_at": utcnow()}
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            postgresql.insert(CommentReaction).values(**values).on_conflict_do_nothing()
        )
    else:
        await session.execute(
            sqlite.insert(CommentReaction).values(**values).on_conflict_do_nothing()
        )


async def remove_reaction(
    session: AsyncSession, comment_id: uuid.UUID, user_id: uuid.UUID, emoji: str
) -> None:
    await session.execute(
        delete(CommentReaction).where(
            CommentReaction.comment_id == comment_id,
            CommentReaction.user_id == user_id,
            CommentReaction.emoji == emoji,
        )
    )


async def readers_among(
    session: AsyncSession, document_id: uuid.UUID, user_ids: set[uuid.UUID]
) -> set[uuid.UUID]:
    """Those of `user_ids` who may read the document (only they can be mentioned in it)."""
    if not user_ids:
        return set()
    result = await session.execute(viewers_among(document_id, user_ids))
    return set(result.scalars())


async def replace_mentions(
    session: AsyncSession, comment: Comment, user_ids: set[uuid.UUID]
) -> None:
    await session.execute(delete(CommentMention).where(CommentMention.comment_id == comment.id))
    now = utcnow()
    session.add_all(
        CommentMention(
            comment_id=comment.id, user_id=user_id, document_id=comment.document_id, created_at=now
        )
        for user_id in user_ids
    )
    await session.flush()


async def mentions_of(session: AsyncSession, comment_id: uuid.UUID) -> set[uuid.UUID]:
    result = await session.execute(
        select(CommentMention.user_id).where(CommentMention.comment_id == comment_id)
    )
    return set(result.scalars())


async def delete_comment(session: AsyncSession, comment_id: uuid.UUID) -> None:
    await session.execute(delete(Comment).where(Comment.id == comment_id))
