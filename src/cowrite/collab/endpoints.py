"""`/ws/yjs/{document_id}`: the y-websocket protocol over a room, and the feature's start-up."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack

from fastapi import APIRouter, WebSocket
from starlette.websockets import WebSocketDisconnect

from cowrite.collab import sessions
from cowrite.collab.anonymous import anonymize
from cowrite.collab.connection import SharePeer, SocketPeer
from cowrite.collab.formats import DocumentTooLarge
from cowrite.collab.protocol import LimitExceeded, Message, ProtocolError, parse_frame
from cowrite.collab.repair import start_repair
from cowrite.collab.room import Room
from cowrite.collab.service import CollabService
from cowrite.collab.updates import ForeignRootError
from cowrite.db import unit_of_work
from cowrite.kit.errors import NotFound, Unauthorized
from cowrite.kit.ratelimit import TokenBucket
from cowrite.kit.useragent import device_type
from cowrite.realtime.admission import (
    Access,
    admission_gate,
    forget_handshake,
    header_value,
    open_channel,
    open_share_channel,
    query_value,
    read_access,
    refuse,
    regrant,
)
from cowrite.realtime.codes import CloseCode
from cowrite.realtime.direct import DirectWebSocket
from cowrite.shares import service as shares
from cowrite.state import AppState

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


async def _admit(
    state: AppState,
    websocket: WebSocket,
    document_id: str,
    peer: SocketPeer,
    token: str,
    user_agent: str,
) -> Access | CloseCode:
    """Who is connecting and what they may do, their session row written in the same
    transaction; or the close code that refuses them."""
    try:
        document_uuid = uuid.UUID(document_id)
    except ValueError:
        return CloseCode.NOT_FOUND
    async with admission_gate(), unit_of_work(state.session_factory) as session:
        access = await read_access(state, session, token, document_uuid)
        if isinstance(access, CloseCode):
            return access
        assert access.grant is not None
        peer.user_id, peer.login_id = access.principal.user_id, access.principal.login_id
        peer.can_write = access.can_write
        await sessions.add_yjs_session(
            state,
            session,
            connection_id=peer.connection_id,
            principal=access.principal,
            workspace_id=access.grant.document.workspace_id,
            document_id=document_uuid,
            user_agent=user_agent,
            client_address=websocket.client.host if websocket.client else "",
            device=device_type(user_agent),
        )
    return access


@router.websocket("/ws/yjs/{document_id}")
async def yjs_socket(websocket: WebSocket, document_id: str) -> None:
    state: AppState = websocket.app.state.cowrite
    share = query_value(websocket, "share")
    if share is not None:
        await _shared_socket(state, websocket, document_id, share)
        return
    service = state.collab
    assert isinstance(service, CollabService)
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
    # Until the peer is in its room (where access changes reach it), the ticket notes them.
    user_agent = header_value(websocket, "user-agent") or ""
    with state.access.admitting() as ticket:
        access = await _admit(state, websocket, document_id, peer, token, user_agent)
        if isinstance(access, CloseCode):
            await refuse(websocket, access)
            return
        ticket.user_id = peer.user_id
        forget_handshake(websocket)
        assert access.grant is not None and peer.user_id and peer.login_id
        document = access.grant.document
        try:
            room = await service.open_room(document.id)
        except NotFound:
            await sessions.close_yjs_session(state, peer.connection_id, None)
            await refuse(websocket, CloseCode.NOT_FOUND)
            return
        await sessions.track_presence(
            state,
            connection_id=peer.connection_id,
            user_id=peer.user_id,
            full_name=access.principal.user.full_name,
            login_id=peer.login_id,
            device=device_type(user_agent),
            document_id=document.id,
        )
        del access, document
        state.metrics.ws_connections.labels("yjs").inc()
        service.join(room, peer)
    try:
        if ticket.changed:  # read again: it may only lose rights here
            access = await regrant(state, token, room.document_id)
            if isinstance(access, CloseCode):
                peer.request_close(access, "access changed")
            elif not access.can_write:
                peer.can_write = False
            del access
        del token, ticket
        await _read_until_closed(websocket, room, peer, state)
    finally:
        peer.on_close = None
        service.leave(room, peer)
        peer.request_close(CloseCode.NORMAL, "")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(peer.wait_finished(), CLOSE_WAIT_SECONDS)
        state.metrics.ws_connections.labels("yjs").dec()
        await sessions.close_yjs_session(state, peer.connection_id, room.document_id)


async def _admit_share(
    state: AppState, document_id: str, share: str, unlock: str | None, peer: SharePeer
) -> uuid.UUID | CloseCode:
    """The document a share link opens (it must be the one in the path), or the close code."""
    try:
        document_uuid = uuid.UUID(document_id)
    except ValueError:
        return CloseCode.NOT_FOUND
    try:
        async with admission_gate(), unit_of_work(state.reader_factory) as session:
            opened = await shares.find_link(session, share)
            if opened.document.id != document_uuid:
                return CloseCode.NOT_FOUND
            shares.check_unlocked(state, opened.link, unlock)
    except Unauthorized:
        return CloseCode.UNAUTHENTICATED
    except NotFound:
        return CloseCode.NOT_FOUND
    peer.share_id = opened.link.id
    if state.share_usage is not None:
        state.share_usage.note(opened.link.id, count=0)
    return document_uuid


async def _shared_socket(
    state: AppState, websocket: WebSocket, document_id: str, share: str
) -> None:
    """`/ws/yjs/{document_id}?share=<token>`: the live text for an anonymous reader, who may
    not change it and shows up in awareness only as an anonymous reader."""
    service = state.collab
    assert isinstance(service, CollabService)
    settings = state.settings
    unlock = await open_share_channel(
        websocket, settings, max_message_bytes=settings.yjs_max_message_bytes
    )
    if isinstance(unlock, CloseCode):
        await refuse(websocket, unlock)
        return
    peer = SharePeer(
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
        on_catch_up=state.metrics.ws_catch_ups.labels("yjs").inc,
    )
    # Until the peer is in its room (where revocations reach it), the ticket notes them.
    with state.access.admitting() as ticket:
        admitted = await _admit_share(state, document_id, share, unlock, peer)
        if isinstance(admitted, CloseCode):
            await refuse(websocket, admitted)
            return
        forget_handshake(websocket)
        try:
            room = await service.open_room(admitted)
        except NotFound:
            await refuse(websocket, CloseCode.NOT_FOUND)
            return
        state.metrics.ws_connections.labels("yjs").inc()
        service.join(room, peer)
    try:
        if ticket.changed:
            refused = await _admit_share(state, document_id, share, unlock, peer)
            if isinstance(refused, CloseCode):
                peer.request_close(refused, "link no longer works")
        reader_id = f"anonymous:{peer.connection_id}"
        entries = settings.yjs_awareness_max_entries
        await _read_until_closed(
            websocket,
            room,
            peer,
            state,
            inbound=lambda messages: anonymize(messages, reader_id, entries),
        )
    finally:
        peer.on_close = None
        service.leave(room, peer)
        peer.request_close(CloseCode.NORMAL, "")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(peer.wait_finished(), CLOSE_WAIT_SECONDS)
        state.metrics.ws_connections.labels("yjs").dec()


async def _read_until_closed(
    websocket: WebSocket,
    room: Room,
    peer: SocketPeer,
    state: AppState,
    inbound: Callable[[list[Message]], list[Message]] | None = None,
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
            refusal = _take_frame(room, peer, rate, message.get("bytes"), max_bytes, inbound)
            if refusal is not None:
                peer.request_close(*refusal)
                return
    except asyncio.CancelledError:
        if not interrupted:
            raise
        task.uncancel()
    finally:
        peer.on_close = None


def _take_frame(
    room: Room,
    peer: SocketPeer,
    rate: TokenBucket,
    data: bytes | None,
    max_bytes: int,
    inbound: Callable[[list[Message]], list[Message]] | None = None,
) -> tuple[CloseCode, str] | None:
    """Hand a frame's messages (rewritten by `inbound`, if any) to the room; the close it earns
    instead, if any."""
    if data is None:
        return CloseCode.UNSUPPORTED, "binary y-protocols frames only"
    if len(data) > max_bytes:
        return CloseCode.TOO_BIG, "message too big"
    try:
        messages = parse_frame(data)
        if inbound is not None:
            messages = inbound(messages)
        if rate.take(len(messages)):
            replied = room.receive_frame(peer, messages)
            if replied < REPLY_BYTES_PER_TOKEN or rate.take(replied // REPLY_BYTES_PER_TOKEN):
                return None
        return CloseCode.POLICY, "too many messages"
    except ForeignRootError as exc:
        return CloseCode.WRONG_ROOT, str(exc)
    except DocumentTooLarge as exc:
        return CloseCode.DOCUMENT_TOO_LARGE, str(exc)
    except LimitExceeded as exc:
        return CloseCode.TOO_BIG if exc.too_big else CloseCode.POLICY, str(exc)
    except ProtocolError as exc:
        return CloseCode.INVALID, str(exc)
