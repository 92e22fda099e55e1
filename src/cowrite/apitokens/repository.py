"""SQL for personal API tokens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.clock import utcnow
from cowrite.kit.usage import Use
from cowrite.models import ApiToken, User

# A live token and its owner, by hash: an unknown, revoked or expired token finds no row, in
# the same single query, so the three cannot be told apart by the answer or its time. Reads
# `:token_hash` and `:now`.
LIVE_TOKEN = (
    select(ApiToken, User)
    .join(User, User.id == ApiToken.user_id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > bindparam("now")),
    )
)


async def live_token(session: AsyncSession, token_hash: str) -> tuple[ApiToken, User] | None:
    row = (await session.execute(LIVE_TOKEN, {"token_hash": token_hash, "now": utcnow()})).first()
    return None if row is None else (row[0], row[1])


async def add_token(session: AsyncSession, token: ApiToken) -> ApiToken:
    session.add(token)
    await session.flush()
    return token


async def tokens_of(session: AsyncSession, user_id: uuid.UUID) -> Sequence[ApiToken]:
    result = await session.execute(
        select(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )
    return result.scalars().all()


async def revoke(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> bool:
    result = await session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            ApiToken.user_id == user_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount


_RECORD_USE = (
    update(ApiToken)
    .where(ApiToken.id == bindparam("token_id"))
    .values(last_used_at=bindparam("last"))
)


async def record_uses(session: AsyncSession, uses: dict[uuid.UUID, Use]) -> None:
    rows = [{"token_id": token_id, "last": use.last} for token_id, use in sorted(uses.items())]
    # Core executemany: one statement for the batch, no ORM bookkeeping of loaded rows.
    connection = await session.connection()
    await connection.execute(_RECORD_USE, rows)
