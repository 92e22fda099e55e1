"""`/ws/yjs/{document_id}`: the y-websocket protocol over a room, and the feature's start-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from cowrite.auth.deps import principal_from_token
from cowrite.collab import sessions
from cowrite.collab.connection import CONNECTION_LOST, RateLimit, SocketPeer
from cowrite.collab.formats import DocumentTooLarge
from cowrite.collab.protocol import ProtocolError, parse_frame
from cowrite.collab.repair import start_repair
from cowrite.collab.room import Room
from cowrite.collab.service import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHENTICATED,
    CollabService,
)
from cowrite.collab.updates import ForeignRootError
from cowrite.db import unit_of_work
from cowrite.documents.access import document_grant
from cowrite.kit.errors import AppError, NotFound, Unauthorized
from cowrite.kit.useragent import device_type
from cowrite.sockets import admission_gate, forget_handshake, header_value, query_value
from cowrite.state import AppState
from cowrite.workspaces.roles import Role

log = logging.getLogger(__name__)
router = APIRouter()

CLOSE_UNSUPPORTED = 1003  # text frames
# Final for the stock y-websocket client (4400-4499: no reconnect): resending cannot help.
CLOSE_TOO_LARGE_DOCUMENT = 4413  # a rich document deeper or bigger than the limits
CLOSE_WRONG_ROOT = 4422  # a change to a root other than the one the document's format uses
CLOSE_INVALID = 1007  # bytes that are not the y-protocols encoding, updates Yjs refuses
CLOSE_POLICY = 1008  # message rate
CLOSE_TOO_BIG = 1009
CLOSE_TIMEOUT = 2.0  # a client that cannot even take the close frame is dropped


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    service = CollabService(state)
    await service.start()
    state.collab = service
    stack.push_async_callback(service.close)
    await start_repair(service, stack)


@dataclass(frozen=True, slots=True)
class _Admission:
    connection_id: uuid.UUID
    document_id: uuid.UUID
    user_id: uuid.UUID
    login_id: uuid.UUID
    full_name: str
    device: str
    can_write: bool


async def _admit(state: AppState, websocket: WebSocket, document_id: str) -> _Admission | int:
    """Who is connecting and what they may do (their session row written in the same
    transaction), or the close code that refuses them."""
    token = query_value(websocket, "token")
    if not token:
        return CLOSE_UNAUTHENTICATED
    try:
        document_uuid = uuid.UUID(document_id)
    except ValueError:
        return CLOSE_NOT_FOUND
    connection_id = uuid.uuid4()
    user_agent = header_value(websocket, "user-agent") or ""
    device = device_type(user_agent)
    try:
        async with admission_gate(), unit_of_work(state.session_factory) as session:
            principal = await principal_from_token(state, session, token)
            grant = await document_grant(session, principal.user_id, document_uuid, Role.VIEWER)
            await sessions.add_yjs_session(
                state,
                session,
                connection_id=connection_id,
                principal=principal,
                workspace_id=grant.document.workspace_id,
                document_id=document_uuid,
                user_agent=user_agent,
                client_address=websocket.client.host if websocket.client else "",
                device=device,
            )
    except Unauthorized:
        return CLOSE_UNAUTHENTICATED
    except NotFound:
        return CLOSE_NOT_FOUND
    except AppError:
        return CLOSE_FORBIDDEN
    return _Admission(
        connection_id,
        document_uuid,
        principal.user_id,
        principal.login_id,
        principal.user.full_name,
        device,
        grant.role.at_least(Role.EDITOR),
    )


@router.websocket("/ws/yjs/{document_id}")
async def yjs_socket(websocket: WebSocket, document_id: str) -> None:
    state: AppState = websocket.app.state.cowrite
    service: CollabService = state.collab
    await websocket.accept()
    admission = await _admit(state, websocket, document_id)
    if isinstance(admission, int):
        await websocket.close(admission)
        return
    forget_handshake(websocket)
    try:
        room = await service.open_room(admission.document_id)
    except NotFound:
        await sessions.close_yjs_session(state, admission.connection_id, None)
        await websocket.close(CLOSE_NOT_FOUND)
        return
    peer = SocketPeer(
        websocket.send_bytes,
        websocket.close,
        connection_id=admission.connection_id,
        user_id=admission.user_id,
        login_id=admission.login_id,
        can_write=admission.can_write,
        queue_limit=state.settings.yjs_send_queue_max,
    )
    await sessions.track_presence(
        state,
        connection_id=admission.connection_id,
        user_id=admission.user_id,
        full_name=admission.full_name,
        login_id=admission.login_id,
        device=admission.device,
        document_id=admission.document_id,
    )
    del admission
    state.metrics.ws_connections.labels("yjs").inc()
    service.join(room, peer)
    try:
        await _read_until_closed(websocket, room, peer, state)
    finally:
        peer.on_close = None
        service.leave(room, peer)
        peer.request_close(1000, "")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(peer.wait_finished(), CLOSE_TIMEOUT)
        state.metrics.ws_connections.labels("yjs").dec()
        await sessions.close_yjs_session(state, peer.connection_id, room.document_id)


async def _read_until_closed(
    websocket: WebSocket, room: Room, peer: SocketPeer, state: AppState
) -> None:
    """Feed the client's frames to the room until it leaves or breaks the rules.

    Reads in this task, with no helper task or event per socket while it is idle (and in one
    frame: each awaiting frame costs memory per socket): a close requested from elsewhere (the
    room, a revocation, shutdown) interrupts the pending receive by cancelling this task, and
    the cancellation is taken back here."""
    task = asyncio.current_task()
    assert task is not None
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        if asyncio.current_task() is task:
            return  # the reader closed it itself and stops on its own
        if peer.close_code == CONNECTION_LOST:
            # The client left (a send found it gone): what it sent before leaving is still
            # to be read, and the transport's disconnect comes after it, so no receive hangs.
            return
        interrupted = True
        task.cancel()

    settings = state.settings
    max_bytes = settings.yjs_max_message_bytes
    rate = RateLimit(settings.yjs_rate_per_second, settings.yjs_rate_burst)
    peer.on_close = interrupt
    try:
        while not peer.closing or peer.close_code == CONNECTION_LOST:
            try:
                message = await websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                peer.request_close(CLOSE_UNSUPPORTED, "binary y-protocols frames only")
                return
            if len(data) > max_bytes:
                peer.request_close(CLOSE_TOO_BIG, "message too big")
                return
            if not rate.allow():
                peer.request_close(CLOSE_POLICY, "too many messages")
                return
            try:
                for item in parse_frame(data):
                    room.receive(peer, item)
            except ForeignRootError as exc:
                peer.request_close(CLOSE_WRONG_ROOT, str(exc))
                return
            except DocumentTooLarge as exc:
                peer.request_close(CLOSE_TOO_LARGE_DOCUMENT, str(exc))
                return
            except ProtocolError as exc:
                peer.request_close(CLOSE_INVALID, str(exc))
                return
    except asyncio.CancelledError:
        if not interrupted:
            raise
        task.uncancel()
    finally:
        peer.on_close = None
