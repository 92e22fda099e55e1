"""SQL for users and logins."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.clock import utcnow
from cowrite.models import Login, User, UserSession


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == email))
    return result.scalar_one_or_none()


async def user_by_id(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


# Built once: every authenticated request runs it, and a prebuilt statement skips compiling.
_USER_OF_ACTIVE_LOGIN = (
    select(User)
    .join(Login, Login.user_id == User.id)
    .where(
        Login.id == bindparam("login_id"),
        Login.user_id == bindparam("user_id"),
        Login.revoked_at.is_(None),
        Login.expires_at > bindparam("now"),
    )
)


async def user_of_active_login(
    session: AsyncSession, login_id: uuid.UUID, user_id: uuid.UUID
) -> User | None:
    """The login's user in one query, if the login is still live."""
    result = await session.execute(
        _USER_OF_ACTIVE_LOGIN, {"login_id": login_id, "user_id": user_id, "now": utcnow()}
    )
    return result.scalars().first()


async def login_by_id(session: AsyncSession, login_id: uuid.UUID) -> Login | None:
    return await session.get(Login, login_id)


async def rotate_refresh(
    session: AsyncSession, login_id: uuid.UUID, old_jti: str, new_jti: str, expires_at: datetime
) -> bool:
    """Swap the login's refresh id only if it is still `old_jti` (one winner under races)."""
    now = utcnow()
    result = await session.execute(
        update(Login)
        .where(Login.id == login_id, Login.refresh_jti == old_jti, Login.revoked_at.is_(None))
        .values(
            refresh_jti=new_jti,
            previous_refresh_jti=old_jti,
            rotated_at=now,
            last_used_at=now,
            expires_at=expires_at,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount


async def revoke_logins(
    session: AsyncSession,
    user_id: uuid.UUID,
    login_ids: Sequence[uuid.UUID] | None = None,
    *,
    keep: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Revoke the given logins of a user (all of them when None); return those revoked now."""
    query = select(Login.id).where(Login.user_id == user_id, Login.revoked_at.is_(None))
    if login_ids is not None:
        query = query.where(Login.id.in_(list(login_ids)))
    if keep is not None:
        query = query.where(Login.id != keep)
    ids = list((await session.execute(query)).scalars())
    if ids:
        await session.execute(update(Login).where(Login.id.in_(ids)).values(revoked_at=utcnow()))
    return ids


async def live_logins(session: AsyncSession, user_id: uuid.UUID) -> Sequence[Login]:
    result = await session.execute(
        select(Login)
        .where(Login.user_id == user_id, Login.revoked_at.is_(None), Login.expires_at > utcnow())
        .order_by(Login.created_at.desc())
    )
    return result.scalars().all()


async def live_connections(session: AsyncSession, user_id: uuid.UUID) -> Sequence[UserSession]:
    result = await session.execute(
        select(UserSession)
        .where(UserSession.user_id == user_id, UserSession.is_active.is_(True))
        .order_by(UserSession.connected_at.desc())
    )
    return result.scalars().all()
