"""uvicorn's httptools protocol with the limits it lacks: a request head may be only so big
(431) and must arrive in time (408), and a process takes only so many connections (503).
Every WebSocket starts as one of these requests, so the limits hold for upgrades too, under
either WebSocket transport."""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from cowrite.leanws import frames
from cowrite.leanws.server import LIMITS


class GuardedHttpProtocol(HttpToolsProtocol):
    """`http="cowrite.leanws.http:GuardedHttpProtocol"`: httptools, bounded."""

    # Slots, not instance attributes: the parent's attribute dict stays at its size.
    __slots__ = ("_head_bytes", "_head_timer", "_in_head")

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._in_head = True  # between a request's first byte (or the connection) and its end
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > LIMITS.max_connections:
            self.logger.warning("Connection refused: %d open", len(self.connections) - 1)
            self._refuse(HTTPStatus.SERVICE_UNAVAILABLE, "too many connections")
            return
        self._start_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._in_head and self.parser is not None and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > LIMITS.max_head_bytes:
                self._refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head too long")

    def handle_websocket_upgrade(self) -> None:
        super().handle_websocket_upgrade()
        # The parser and this protocol refer to each other: let go now, not at a collection,
        # since nothing reads through this protocol once the socket has its own.
        self._stop_head_timer()
        self.parser = None  # type: ignore[assignment]

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._stop_head_timer()
        super().on_headers_complete()

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(LIMITS.head_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        timer, self._head_timer = self._head_timer, None
        if timer is not None:
            timer.cancel()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(HTTPStatus.REQUEST_TIMEOUT, "request head not sent in time")

    def _refuse(self, status: HTTPStatus, message: str) -> None:
        self._stop_head_timer()
        self._in_head = False
        body = f"{message}\n".encode()
        self.transport.write(
            frames.http_response(status, list(self.server_state.default_headers), body)
        )
        self.transport.close()
