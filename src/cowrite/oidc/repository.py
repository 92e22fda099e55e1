"""SQL for provider identities and hand-off codes."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.models import OidcHandoff, OidcIdentity, User


async def identity(session: AsyncSession, issuer: str, subject: str) -> OidcIdentity | None:
    found = await session.scalars(
        select(OidcIdentity).where(OidcIdentity.issuer == issuer, OidcIdentity.subject == subject)
    )
    return found.first()


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    found = await session.scalars(select(User).where(User.email == email))
    return found.first()


async def use_handoff(session: AsyncSession, code_hash: str, now: datetime) -> uuid.UUID | None:
    """Spend a live, unused code at most once (also across processes); its user, or None."""
    spent = await session.execute(
        update(OidcHandoff)
        .where(
            OidcHandoff.code_hash == code_hash,
            OidcHandoff.used_at.is_(None),
            OidcHandoff.expires_at > now,
        )
        .values(used_at=now)
        .returning(OidcHandoff.user_id)
    )
    return spent.scalar_one_or_none()


async def drop_expired_handoffs(session: AsyncSession, before: datetime) -> None:
    await session.execute(delete(OidcHandoff).where(OidcHandoff.expires_at < before))
