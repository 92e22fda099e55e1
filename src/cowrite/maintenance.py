"""Housekeeping that runs in the background and from the CLI."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.config import Settings
from cowrite.kit.clock import utcnow
from cowrite.models import UserSession


def stale_session_age(settings: Settings) -> float:
    """How old `last_seen_at` must be before a session's process is taken for dead: a live
    process refreshes its sessions every `session_touch_interval_seconds`."""
    return max(settings.presence_timeout_seconds, 2 * settings.session_touch_interval_seconds)


async def touch_process_sessions(session: AsyncSession, process_id: str) -> None:
    """The liveness beat of one process: all its active sessions were seen now."""
    await session.execute(
        update(UserSession)
        .where(UserSession.process_id == process_id, UserSession.is_active.is_(True))
        .values(last_seen_at=utcnow())
    )


async def close_stale_sessions(
    session: AsyncSession,
    older_than_seconds: float,
    *,
    process_id: str | None = None,
    exclude_process_id: str | None = None,
) -> int:
    """Mark sessions inactive that nobody has seen for a while (their process died), or all
    sessions of one process; returns how many were closed."""
    query = update(UserSession).where(UserSession.is_active.is_(True))
    if process_id is not None:
        query = query.where(UserSession.process_id == process_id)
    else:
        cutoff = utcnow() - timedelta(seconds=older_than_seconds)
        query = query.where(UserSession.last_seen_at < cutoff)
        if exclude_process_id is not None:
            query = query.where(UserSession.process_id != exclude_process_id)
    result = await session.execute(query.values(is_active=False, disconnected_at=utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]  # CursorResult has rowcount
