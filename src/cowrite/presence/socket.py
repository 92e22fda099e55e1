"""The `/ws` socket handler: handshake checks, authentication, then the read loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from starlette.websockets import WebSocket

from cowrite.auth.deps import Principal, principal_from_token
from cowrite.db import unit_of_work
from cowrite.kit.errors import AppError
from cowrite.kit.ids import new_id
from cowrite.kit.useragent import device_type
from cowrite.presence.connection import Connection
from cowrite.presence.protocol import MOVE_TYPES, ProtocolError, error_frame, parse_frame
from cowrite.presence.service import CLOSE_UNAUTHENTICATED, PresenceService
from cowrite.sockets import (
    DirectWebSocket,
    admission_gate,
    forget_handshake,
    header_value,
    query_value,
)
from cowrite.state import AppState

log = logging.getLogger(__name__)

CLOSE_FORBIDDEN = 4403
CLOSE_AUTH_TIMEOUT = 4408
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009


class TokenBucket:
    """`burst` messages at once, then `rate` per second."""

    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, burst: int, rate: float) -> None:
        self.burst = float(burst)
        self.rate = rate
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self, now: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _too_big(text: str, limit: int) -> bool:
    if len(text) > limit:
        return True
    return len(text) * 4 > limit and len(text.encode()) > limit


def origin_allowed(websocket: WebSocket, allowed: list[str]) -> bool:
    """Browsers send Origin; other clients don't. Checked only when origins are configured."""
    origin = header_value(websocket, "origin")
    if origin is None or not allowed or "*" in allowed:
        return True
    return origin.rstrip("/") in {item.rstrip("/") for item in allowed}


async def _authenticate(state: AppState, token: str) -> Principal | None:
    try:
        async with admission_gate(), unit_of_work(state.session_factory) as session:
            return await principal_from_token(state, session, token)
    except AppError:
        return None


async def _first_frame_token(websocket: WebSocket, wait_seconds: float) -> str | None:
    """Wait for `{"type":"auth","token":…}`; None on anything else (the caller closes);
    TimeoutError when nothing came in time."""
    message = await asyncio.wait_for(websocket.receive(), wait_seconds)
    text = message.get("text")
    if message["type"] != "websocket.receive" or not isinstance(text, str) or len(text) > 8192:
        return None
    try:
        parsed = parse_frame(text)
    except ProtocolError:
        return None
    return parsed.token if parsed.type == "auth" else None


async def serve_socket(websocket: WebSocket, state: AppState) -> None:
    presence: PresenceService = state.presence
    connection = await _open(websocket, state)
    if connection is None:
        return
    reader = asyncio.current_task()
    if reader is not None:
        connection.on_abort = reader.cancel
    user_agent = header_value(websocket, "user-agent") or ""
    client = websocket.client.host if websocket.client else ""
    forget_handshake(websocket)  # nothing reads headers or the query (the token) from here on
    await presence.connect(connection, user_agent, client)
    try:
        await _read_loop(websocket, presence, connection)
    except asyncio.CancelledError:
        log.info("ws connection %s aborted", connection.id)
    finally:
        await presence.disconnect(connection)


async def _refuse(websocket: WebSocket, code: int, reason: str) -> None:
    """Close during the handshake; a client that already left is no error."""
    with contextlib.suppress(Exception):
        await websocket.close(code, reason)


async def _open(websocket: WebSocket, state: AppState) -> Connection | None:
    """Accept, check the origin, authenticate: the connection, or None once closed."""
    settings = state.settings
    await websocket.accept()
    if not origin_allowed(websocket, settings.allowed_origins):
        await _refuse(websocket, CLOSE_FORBIDDEN, "origin not allowed")
        return None
    token = query_value(websocket, "token")
    if not token:
        try:
            token = await _first_frame_token(websocket, settings.ws_auth_timeout_seconds)
        except TimeoutError:
            await _refuse(websocket, CLOSE_AUTH_TIMEOUT, "authentication timeout")
            return None
    principal = await _authenticate(state, token) if token else None
    if principal is None:
        await _refuse(websocket, CLOSE_UNAUTHENTICATED, "not authenticated")
        return None
    # Only plain values are kept: the ORM user stays behind with its session.
    return Connection(
        websocket,
        connection_id=new_id(),
        user_id=principal.user_id,
        login_id=principal.login_id,
        full_name=principal.user.full_name,
        device_type=device_type(header_value(websocket, "user-agent") or ""),
        queue_max=settings.ws_send_queue_max,
        ready_frame_writer=(
            websocket.ready_frame_writer() if isinstance(websocket, DirectWebSocket) else None
        ),
    )


class _Reader:
    """The checks every frame passes (activity, rate, size, parse), then its handler. Under the
    lean transport, cursor and selection moves are taken as they are read (`quick`), with no
    task switch per message; everything else comes through `run`'s loop."""

    __slots__ = ("bucket", "connection", "limit", "presence")

    def __init__(self, presence: PresenceService, connection: Connection) -> None:
        settings = presence.settings
        self.presence = presence
        self.connection = connection
        self.bucket = TokenBucket(settings.ws_rate_burst, settings.ws_rate_per_second)
        self.limit = settings.ws_max_frame_bytes

    def _admit(self) -> bool:
        """Note the activity and spend a token; False (and the close begun) over the rate."""
        now = time.monotonic()
        self.connection.last_activity = now
        if self.bucket.take(now):
            return True
        self.connection.close_soon(CLOSE_POLICY, "rate limit exceeded")
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
        if parsed.type not in MOVE_TYPES:
            return False
        if self._admit():
            try:
                self.presence.handle_move(connection, parsed)
            except Exception as exc:
                self._refuse(exc)
        return True

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
                    connection.close_soon(CLOSE_TOO_BIG, "frame too big")
                    return
                connection.send(error_frame("invalid_message", "Binary frames are not supported"))
                continue
            if _too_big(text, limit):
                connection.close_soon(CLOSE_TOO_BIG, "frame too big")
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
