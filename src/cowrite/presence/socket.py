"""The `/ws` socket handler: handshake checks, authentication, then the read loop."""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.websockets import WebSocket

from cowrite.config import Settings
from cowrite.db import unit_of_work
from cowrite.kit.ids import new_id
from cowrite.kit.ratelimit import TokenBucket
from cowrite.kit.useragent import device_type
from cowrite.presence.connection import Connection
from cowrite.presence.protocol import QUICK_TYPES, ProtocolError, error_frame, parse_frame
from cowrite.presence.service import PresenceService
from cowrite.realtime.admission import (
    admission_gate,
    forget_handshake,
    header_value,
    open_channel,
    read_access,
    refuse,
    regrant,
)
from cowrite.realtime.codes import CloseCode
from cowrite.realtime.direct import DirectWebSocket
from cowrite.state import AppState

log = logging.getLogger(__name__)


def _too_big(text: str, limit: int) -> bool:
    if len(text) > limit:
        return True
    return len(text) * 4 > limit and len(text.encode()) > limit


def _transport_limit(settings: Settings) -> int:
    """Frames the transport takes: the /ws limit, or room for an oversized signal to be refused
    with an `error` (the calls feature answers it) rather than a close."""
    return max(settings.ws_max_frame_bytes, 2 * settings.rtc_signal_max_bytes)


async def serve_socket(websocket: WebSocket, state: AppState) -> None:
    presence = state.presence
    assert isinstance(presence, PresenceService)
    settings = state.settings
    token = await open_channel(websocket, settings, max_message_bytes=_transport_limit(settings))
    if isinstance(token, CloseCode):
        await refuse(websocket, token)
        return
    user_agent = header_value(websocket, "user-agent") or ""
    client = websocket.client.host if websocket.client else ""
    forget_handshake(websocket)  # nothing reads headers or the query (the token) from here on
    # Until the connection is registered (where access changes reach it), the ticket notes them.
    with state.access.admitting() as ticket:
        async with admission_gate(), unit_of_work(state.session_factory) as session:
            access = await read_access(state, session, token)
        if isinstance(access, CloseCode):
            await refuse(websocket, access)
            return
        principal = access.principal
        ticket.user_id = principal.user_id
        # Only plain values are kept: the ORM user stays behind with its session.
        connection = Connection(
            websocket,
            connection_id=new_id(),
            user_id=principal.user_id,
            login_id=principal.login_id,
            full_name=principal.user.full_name,
            device_type=device_type(user_agent),
            queue_bytes=settings.ws_send_queue_max_bytes,
            ready_frame_writer=(
                websocket.ready_frame_writer() if isinstance(websocket, DirectWebSocket) else None
            ),
        )
        del access, principal
        await presence.connect(connection, user_agent, client)
    reader = asyncio.current_task()
    if reader is not None:
        connection.on_abort = reader.cancel
    try:
        if ticket.changed:  # read again: the login may have ended meanwhile
            access = await regrant(state, token)
            if isinstance(access, CloseCode):
                connection.close_soon(access, "access changed")
        del token, ticket
        await _read_loop(websocket, presence, connection)
    except asyncio.CancelledError:
        log.info("ws connection %s aborted", connection.id)
    finally:
        await presence.disconnect(connection)


class _Reader:
    """The checks every frame passes (activity, rate, size, parse), then its handler. Under the
    lean transport, cursor and selection moves are taken as they are read (`quick`), with no
    task switch per message; everything else comes through `run`'s loop."""

    __slots__ = ("bucket", "connection", "limit", "presence", "signal_limit")

    def __init__(self, presence: PresenceService, connection: Connection) -> None:
        settings = presence.settings
        self.presence = presence
        self.connection = connection
        self.bucket = TokenBucket(settings.ws_rate_per_second, settings.ws_rate_burst)
        self.limit = settings.ws_max_frame_bytes
        self.signal_limit = _transport_limit(settings)

    def _admit(self) -> bool:
        """Note the activity and spend a token; False (and the close begun) over the rate."""
        now = time.monotonic()
        self.connection.last_activity = now
        if self.bucket.take(1.0, now):
            return True
        self.connection.close_soon(CloseCode.POLICY, "rate limit exceeded")
        return False

    def _refuse(self, exc: Exception) -> None:
        """The error frame answering a message that failed."""
        connection = self.connection
        if isinstance(exc, ProtocolError):
            connection.send(error_frame(exc.code, exc.message, exc.ref))
            return
        log.error("ws message failed on connection %s", connection.id, exc_info=exc)
        connection.send(error_frame("internal_error", "Could not handle the message"))

    def quick(self, text: str) -> bool:
        """A move handled at once (True); False leaves the frame, untouched, to `run`."""
        connection = self.connection
        if connection.closed or _too_big(text, self.limit):
            return False
        try:
            parsed = parse_frame(text)
        except ProtocolError:
            return False  # `run` answers it
        if parsed.type not in QUICK_TYPES:
            return False
        if self._admit():
            try:
                self.presence.handle_move(connection, parsed)
            except Exception as exc:
                self._refuse(exc)
        return True

    def _oversized_signal(self, text: str) -> bool:
        """An `rtc_signal` over the frame limit but within the transport's: the calls feature
        refuses it with an `error` and the socket stays open."""
        if _too_big(text, self.signal_limit):
            return False
        try:
            return parse_frame(text).type == "rtc_signal"
        except ProtocolError:
            return False

    async def run(self, websocket: WebSocket) -> None:
        connection = self.connection
        presence = self.presence
        limit = self.limit
        while not connection.closed:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if not self._admit():
                return
            text = message.get("text")
            if text is None:
                data = message.get("bytes") or b""
                if len(data) > limit:
                    connection.close_soon(CloseCode.TOO_BIG, "frame too big")
                    return
                connection.send(error_frame("invalid_message", "Binary frames are not supported"))
                continue
            if _too_big(text, limit) and not self._oversized_signal(text):
                connection.close_soon(CloseCode.TOO_BIG, "frame too big")
                return
            try:
                parsed = parse_frame(text)
                if not presence.handle_move(connection, parsed):
                    await presence.handle(connection, parsed)
            except Exception as exc:
                self._refuse(exc)


async def _read_loop(
    websocket: WebSocket, presence: PresenceService, connection: Connection
) -> None:
    reader = _Reader(presence, connection)
    if isinstance(websocket, DirectWebSocket) and presence.settings.ws_quick_moves:
        websocket.offer_texts(reader.quick)
    await reader.run(websocket)
