"""The `user_sessions` table: one row per live connection (`/ws` and `/ws/yjs`).

Rows are written on connect, join, leave and disconnect only; `last_seen_at` goes through
`SessionTouches`, which batches every connection's "seen" into one UPDATE per interval.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.models import UserSession

_USER_AGENT_MAX = 512
_ADDRESS_MAX = 64


async def open_session(
    session: AsyncSession,
    *,
    connection_id: uuid.UUID,
    user_id: uuid.UUID,
    login_id: uuid.UUID | None,
    channel: str,
    user_agent: str,
    client_address: str,
    device_type: str,
    process_id: str,
    workspace_id: uuid.UUID | None = None,
    document_id: uuid.UUID | None = None,
) -> None:
    now = utcnow()
    session.add(
        UserSession(
            connection_id=connection_id,
            user_id=user_id,
            login_id=login_id,
            channel=channel,
            user_agent=user_agent[:_USER_AGENT_MAX],
            client_address=client_address[:_ADDRESS_MAX],
            device_type=device_type,
            workspace_id=workspace_id,
            document_id=document_id,
            process_id=process_id,
            is_active=True,
            connected_at=now,
            last_seen_at=now,
        )
    )
    await session.flush()


async def set_location(
    session: AsyncSession,
    connection_id: uuid.UUID,
    workspace_id: uuid.UUID | None,
    document_id: uuid.UUID | None,
) -> None:
    """Record which workspace and document a connection is in now (join / leave)."""
    await session.execute(
        update(UserSession)
        .where(UserSession.connection_id == connection_id)
        .values(workspace_id=workspace_id, document_id=document_id, last_seen_at=utcnow())
    )


async def close_session(session: AsyncSession, connection_id: uuid.UUID) -> None:
    now = utcnow()
    await session.execute(
        update(UserSession)
        .where(UserSession.connection_id == connection_id, UserSession.is_active.is_(True))
        .values(is_active=False, disconnected_at=now, last_seen_at=now)
    )


async def close_sessions(session: AsyncSession, connection_ids: Iterable[uuid.UUID]) -> None:
    ids = list(connection_ids)
    if not ids:
        return
    now = utcnow()
    await session.execute(
        update(UserSession)
        .where(UserSession.connection_id.in_(ids), UserSession.is_active.is_(True))
        .values(is_active=False, disconnected_at=now, last_seen_at=now)
    )


async def touch_sessions(
    session: AsyncSession, connection_ids: Iterable[uuid.UUID], seen_at: datetime
) -> None:
    """One UPDATE for many connections seen by `seen_at` (the coalesced heartbeat of the table)."""
    ids = list(connection_ids)
    if ids:
        await session.execute(
            update(UserSession)
            .where(UserSession.connection_id.in_(ids), UserSession.is_active.is_(True))
            .values(last_seen_at=seen_at)
        )


class SessionTouches:
    """Collects "this connection was seen" marks and writes them at most once per interval."""

    def __init__(self) -> None:
        self._seen: set[uuid.UUID] = set()

    def note(self, connection_id: uuid.UUID) -> None:
        self._seen.add(connection_id)

    def forget(self, connection_id: uuid.UUID) -> None:
        self._seen.discard(connection_id)

    def __len__(self) -> int:
        return len(self._seen)

    async def flush(self, factory: async_sessionmaker[AsyncSession]) -> int:
        """Write the marks collected since the last flush; returns how many rows were touched."""
        if not self._seen:
            return 0
        ids, self._seen = self._seen, set()
        async with unit_of_work(factory) as session:
            # Chunks keep the statement under every backend's bound-parameter limit.
            ordered = sorted(ids)
            for start in range(0, len(ordered), 500):
                await touch_sessions(session, ordered[start : start + 500], utcnow())
        return len(ids)
