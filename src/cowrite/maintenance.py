"""Housekeeping that runs in the background and from the CLI."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.clock import utcnow
from cowrite.models import UserSession


async def close_stale_sessions(
    session: AsyncSession, older_than_seconds: float, *, process_id: str | None = None
) -> int:
    """Mark sessions inactive that nobody has seen for a while (their process died), or all
    sessions of one process; returns how many were closed."""
    query = update(UserSession).where(UserSession.is_active.is_(True))
    if process_id is not None:
        query = query.where(UserSession.process_id == process_id)
    else:
        cutoff = utcnow() - timedelta(seconds=older_than_seconds)
        query = query.where(UserSession.last_seen_at < cutoff)
    result = await session.execute(query.values(is_active=False, disconnected_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount
