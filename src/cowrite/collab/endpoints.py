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
from cowrite.collab.connection import SocketPeer
from cowrite.collab.formats import DocumentTooLarge
from cowrite.collab.protocol import LimitExceeded, ProtocolError, parse_frame
from cowrite.collab.repair import start_repair
from cowrite.collab.room import Room
from cowrite.collab.service import CollabService
from cowrite.collab.updates import ForeignRootError
from cowrite.db import unit_of_work
from cowrite.documents.access import document_grant
from cowrite.kit.errors import AppError, NotFound, Unauthorized
from cowrite.kit.ratelimit import TokenBucket
from cowrite.kit.useragent import device_type
from cowrite.realtime.admission import (
    admission_gate,
    forget_handshake,
    header_value,
    open_channel,
    refuse,
)
from cowrite.realtime.codes import CloseCode
from cowrite.realtime.direct import DirectWebSocket
from cowrite.state import AppState
from cowrite.workspaces.roles import Role

log = logging.getLogger(__name__)
router = APIRouter()

CLOSE_WAIT_SECONDS = 2.0  # a client that cannot even take the close frame is dropped
REPLY_BYTES_PER_TOKEN = 64 * 1024  # big replies (a sync step 2, awareness) cost extra tokens


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    service = CollabService(state)
    await service.start()
    state.collab = service
    stack.push_async_callback(service.close)
    await start_repair(service, stack)


@dataclass(frozen=True, slots=True)
class _Admission:
    document_id: uuid.UUID
    full_name: str
    device: str


async def _admit(
    state: AppState, websocket: WebSocket, document_id: str, peer: SocketPeer, token: str
) -> _Admission | CloseCode:
    """Who is connecting and what they may do (their session row written in the same
    transaction), or the close code that refuses them."""
    try:
        document_uuid = uuid.UUID(document_id)
    except ValueError:
        return CloseCode.NOT_FOUND
    user_agent = header_value(websocket, "user-agent") or ""
    device = device_type(user_agent)
    try:
        async with admission_gate(), unit_of_work(state.session_factory) as session:
            principal = await principal_from_token(state, session, token)
            peer.user_id, peer.login_id = principal.user_id, principal.login_id
            grant = await document_grant(session, principal.user_id, document_uuid, Role.VIEWER)
            peer.can_write = grant.role.at_least(Role.EDITOR)
            await sessions.add_yjs_session(
                state,
                session,
                connection_id=peer.connection_id,
                principal=principal,
                workspace_id=grant.document.workspace_id,
                document_id=document_uuid,
                user_agent=user_agent,
                client_address=websocket.client.host if websocket.client else "",
                device=device,
            )
    except Unauthorized:
        return CloseCode.UNAUTHENTICATED
    except NotFound:
        return CloseCode.NOT_FOUND
    except AppError:
        return CloseCode.FORBIDDEN
    return _Admission(document_uuid, principal.user.full_name, device)


async def _recheck(
    state: AppState, peer: SocketPeer, token: str, document_id: uuid.UUID
) -> CloseCode | None:
    """Read the grant again for a peer whose access changed while it was admitted; it may
    only lose rights here (a change racing this read reaches the joined peer directly)."""
    try:
        async with unit_of_work(state.reader_factory) as session:
            principal = await principal_from_token(state, session, token)
            grant = await document_grant(session, principal.user_id, document_id, Role.VIEWER)
    except Unauthorized:
        return CloseCode.UNAUTHENTICATED
    except NotFound:
        return CloseCode.NOT_FOUND
    except AppError:
        return CloseCode.FORBIDDEN
    peer.can_write = peer.can_write and grant.role.at_least(Role.EDITOR)
    return None


@router.websocket("/ws/yjs/{document_id}")
async def yjs_socket(websocket: WebSocket, document_id: str) -> None:
    state: AppState = websocket.app.state.cowrite
    service: CollabService = state.collab
    settings = state.settings
    token = await open_channel(
        websocket, settings, max_message_bytes=settings.yjs_max_message_bytes
    )
    if isinstance(token, CloseCode):
        await refuse(websocket, token)
        return
    catch_ups = state.metrics.ws_catch_ups.labels("yjs")
    peer = SocketPeer(
        websocket.send_bytes,
        websocket.close,
        connection_id=uuid.uuid4(),
        user_id=None,
        login_id=None,
        can_write=False,
        queue_bytes=settings.ws_send_queue_max_bytes,
        write_ready=(
            websocket.ready_frame_writer() if isinstance(websocket, DirectWebSocket) else None
        ),
        on_catch_up=catch_ups.inc,
    )
    # Watched for access changes from before the grant is read until it has joined (after
    # which changes reach it in the room), so a change in between is never missed.
    service.admitting(peer)
    try:
        admission = await _admit(state, websocket, document_id, peer, token)
        if isinstance(admission, CloseCode):
            await refuse(websocket, admission)
            return
        forget_handshake(websocket)
        try:
            room = await service.open_room(admission.document_id)
        except NotFound:
            await sessions.close_yjs_session(state, peer.connection_id, None)
            await refuse(websocket, CloseCode.NOT_FOUND)
            return
        assert peer.user_id is not None and peer.login_id is not None
        await sessions.track_presence(
            state,
            connection_id=peer.connection_id,
            user_id=peer.user_id,
            full_name=admission.full_name,
            login_id=peer.login_id,
            device=admission.device,
            document_id=admission.document_id,
        )
        del admission
        state.metrics.ws_connections.labels("yjs").inc()
        service.join(room, peer)
    finally:
        changed = service.admitted(peer)
    try:
        if changed:
            refused = await _recheck(state, peer, token, room.document_id)
            if refused is not None:
                peer.request_close(refused, "access changed")
        del token
        await _read_until_closed(websocket, room, peer, state)
    finally:
        peer.on_close = None
        service.leave(room, peer)
        peer.request_close(CloseCode.NORMAL, "")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(peer.wait_finished(), CLOSE_WAIT_SECONDS)
        state.metrics.ws_connections.labels("yjs").dec()
        await sessions.close_yjs_session(state, peer.connection_id, room.document_id)


async def _read_until_closed(
    websocket: WebSocket, room: Room, peer: SocketPeer, state: AppState
) -> None:
    """Feed the client's frames to the room until it leaves or breaks the rules.

    Every message of a frame spends a token, and so does every 64 KiB of what the room
    answers. Reads in this task, with no helper task or event per socket while it is idle (and
    in one frame: each awaiting frame costs memory per socket): a close requested from
    elsewhere (the room, a revocation, shutdown) interrupts the pending receive by cancelling
    this task, and the cancellation is taken back here."""
    task = asyncio.current_task()
    assert task is not None
    interrupted = False

    def interrupt() -> None:
        nonlocal interrupted
        if asyncio.current_task() is task:
            return  # the reader closed it itself and stops on its own
        if peer.close_code == CloseCode.ABNORMAL:
            # The client left (a send found it gone): what it sent before leaving is still
            # to be read, and the transport's disconnect comes after it, so no receive hangs.
            return
        interrupted = True
        task.cancel()

    settings = state.settings
    max_bytes = settings.yjs_max_message_bytes
    rate = TokenBucket(settings.yjs_rate_per_second, settings.yjs_rate_burst)
    peer.on_close = interrupt
    if peer.closing:
        return
    try:
        while not peer.closing or peer.close_code == CloseCode.ABNORMAL:
            try:
                message = await websocket.receive()
            except (WebSocketDisconnect, RuntimeError):
                return
            if message["type"] == "websocket.disconnect":
                return
            data = message.get("bytes")
            if data is None:
                peer.request_close(CloseCode.UNSUPPORTED, "binary y-protocols frames only")
                return
            if len(data) > max_bytes:
                peer.request_close(CloseCode.TOO_BIG, "message too big")
                return
            try:
                messages = parse_frame(data)
                if not rate.take(len(messages)):
                    peer.request_close(CloseCode.POLICY, "too many messages")
                    return
                replied = room.receive_frame(peer, messages)
                if replied >= REPLY_BYTES_PER_TOKEN and not rate.take(
                    replied // REPLY_BYTES_PER_TOKEN
                ):
                    peer.request_close(CloseCode.POLICY, "too many messages")
                    return
            except ForeignRootError as exc:
                peer.request_close(CloseCode.WRONG_ROOT, str(exc))
                return
            except DocumentTooLarge as exc:
                peer.request_close(CloseCode.DOCUMENT_TOO_LARGE, str(exc))
                return
            except LimitExceeded as exc:
                code = CloseCode.TOO_BIG if exc.too_big else CloseCode.POLICY
                peer.request_close(code, str(exc))
                return
            except ProtocolError as exc:
                peer.request_close(CloseCode.INVALID, str(exc))
                return
    except asyncio.CancelledError:
        if not interrupted:
            raise
        task.uncancel()
    finally:
        peer.on_close = None
