"""Yjs connections as live sessions: a `user_sessions` row (channel "yjs", through presence's
repository) and an entry in the document's presence list, named from the token's user."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.auth.deps import Principal
from cowrite.db import unit_of_work
from cowrite.maintenance import touch_process_sessions
from cowrite.presence import sessions as user_sessions
from cowrite.presence.store import PresenceEntry
from cowrite.state import AppState

CHANNEL = "yjs"


async def add_yjs_session(
    state: AppState,
    session: AsyncSession,
    *,
    connection_id: uuid.UUID,
    principal: Principal,
    workspace_id: uuid.UUID,
    document_id: uuid.UUID,
    user_agent: str,
    client_address: str,
    device: str,
) -> None:
    """Record the connection in the admitting transaction (one transaction per connect)."""
    await user_sessions.open_session(
        session,
        connection_id=connection_id,
        user_id=principal.user_id,
        login_id=principal.login_id,
        channel=CHANNEL,
        user_agent=user_agent,
        client_address=client_address,
        device_type=device,
        process_id=state.process_id,
        workspace_id=workspace_id,
        document_id=document_id,
    )


async def track_presence(
    state: AppState,
    *,
    connection_id: uuid.UUID,
    user_id: uuid.UUID,
    full_name: str,
    login_id: uuid.UUID,
    device: str,
    document_id: uuid.UUID,
) -> None:
    if state.presence is None:
        return
    await state.presence.track_external(
        PresenceEntry(
            connection_id=connection_id,
            user_id=user_id,
            full_name=full_name,
            session_id=login_id,
            device_type=device,
            document_id=document_id,
            channel=CHANNEL,
        )
    )


async def close_yjs_session(
    state: AppState, connection_id: uuid.UUID, document_id: uuid.UUID | None
) -> None:
    if state.presence is not None and document_id is not None:
        await state.presence.untrack_external(document_id, connection_id)
    async with unit_of_work(state.session_factory) as session:
        await user_sessions.close_session(session, connection_id)


async def touch_yjs_sessions(state: AppState) -> None:
    """Mark this process's live connections as seen, so stale-session clean-up leaves them
    alone (closed ones were marked inactive as they closed)."""
    async with unit_of_work(state.session_factory) as session:
        await touch_process_sessions(session, state.process_id)
