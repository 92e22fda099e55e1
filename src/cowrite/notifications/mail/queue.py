"""SQL of notification mail: notifications that came due become outbox rows; outbox rows are
claimed for a while, then marked sent or put back with a later attempt."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.models import Notification, OutgoingMail


async def users_with_mail_due(session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
    result = await session.execute(
        select(Notification.user_id)
        .where(Notification.mail_due_at.is_not(None), Notification.mail_due_at <= now)
        .group_by(Notification.user_id)
        .limit(limit)
    )
    return list(result.scalars())


async def take_pending(session: AsyncSession, user_id: uuid.UUID) -> list[Notification]:
    """Every unread notification of the user waiting to be mailed (due or not: one digest),
    taken so no other process mails them too: a concurrent taker finds none left."""
    ids = list(
        (
            await session.execute(
                update(Notification)
                .where(
                    Notification.user_id == user_id,
                    Notification.mail_due_at.is_not(None),
                    Notification.read_at.is_(None),
                )
                .values(mail_due_at=None)
                .returning(Notification.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    if not ids:
        return []
    result = await session.execute(
        select(Notification).where(Notification.id.in_(ids)).order_by(Notification.created_at)
    )
    return list(result.scalars())


async def next_due(session: AsyncSession) -> datetime | None:
    """When the next notification comes due for mail."""
    result = await session.execute(
        select(Notification.mail_due_at)
        .where(Notification.mail_due_at.is_not(None))
        .order_by(Notification.mail_due_at)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def claim(
    session: AsyncSession, now: datetime, lease: timedelta, limit: int
) -> list[OutgoingMail]:
    """Unsent mails whose time has come, held for `lease` (after which, if never marked, they are
    due again: a crash between sending and marking sends one twice, never loses one)."""
    token = secrets.token_hex(16)
    due = (
        select(OutgoingMail.id)
        .where(OutgoingMail.sent_at.is_(None), OutgoingMail.next_attempt_at <= now)
        .order_by(OutgoingMail.next_attempt_at, OutgoingMail.id)
        .limit(limit)
    )
    await session.execute(
        update(OutgoingMail)
        .where(
            OutgoingMail.id.in_(due.scalar_subquery()),
            OutgoingMail.sent_at.is_(None),
            OutgoingMail.next_attempt_at <= now,
        )
        .values(claim=token, next_attempt_at=now + lease)
        .execution_options(synchronize_session=False)
    )
    result = await session.execute(
        select(OutgoingMail).where(OutgoingMail.claim == token).order_by(OutgoingMail.id)
    )
    return list(result.scalars())


async def mark_sent(session: AsyncSession, ids: list[int], now: datetime) -> None:
    if ids:
        await session.execute(
            update(OutgoingMail)
            .where(OutgoingMail.id.in_(ids))
            .values(sent_at=now, claim=None, last_error=None)
            .execution_options(synchronize_session=False)
        )


async def mark_failed(
    session: AsyncSession, mail_id: int, attempts: int, retry_at: datetime, error: str
) -> None:
    await session.execute(
        update(OutgoingMail)
        .where(OutgoingMail.id == mail_id, OutgoingMail.sent_at.is_(None))
        .values(attempts=attempts, next_attempt_at=retry_at, claim=None, last_error=error[:1000])
        .execution_options(synchronize_session=False)
    )


async def next_attempt(session: AsyncSession) -> datetime | None:
    result = await session.execute(
        select(OutgoingMail.next_attempt_at)
        .where(OutgoingMail.sent_at.is_(None))
        .order_by(OutgoingMail.next_attempt_at)
        .limit(1)
    )
    return result.scalar_one_or_none()


async def delete_sent_before(session: AsyncSession, cutoff: datetime, limit: int) -> int:
    ids = select(OutgoingMail.id).where(OutgoingMail.sent_at < cutoff).limit(limit)
    result = await session.execute(
        delete(OutgoingMail)
        .where(OutgoingMail.id.in_(ids.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount
