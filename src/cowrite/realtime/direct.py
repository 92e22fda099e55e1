"""A direct path for WebSocket routes: past the middleware stack, straight to the endpoint,
with the socket as a `Channel` whatever transport carries it.

The HTTP middleware (error pages, request logs, exception handlers) has nothing to do for a
socket, yet Starlette keeps its wrappers alive for the socket's whole life and runs every
`send` through them. Long-lived, chatty sockets (presence, co-editing) skip them: that is a
measurable share of per-frame CPU and of memory per idle connection.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from starlette.routing import BaseRoute, Match, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

from cowrite.leanws import lean_connection, ready_frame_writer
from cowrite.leanws.frames import text_frame

Endpoint = Callable[..., Awaitable[None]]

__all__ = ["DirectSockets", "DirectWebSocket", "SocketFront", "direct_socket_routes", "text_frame"]


def direct_socket_routes(routes: Iterable[BaseRoute]) -> list[tuple[BaseRoute, Endpoint]]:
    """Socket routes whose endpoint takes only the socket and its path parameters (no
    dependencies to solve), so it can be called without the framework around it."""
    found: list[tuple[BaseRoute, Endpoint]] = []
    for route in routes:
        endpoint = getattr(route, "endpoint", None)
        converters = getattr(route, "param_convertors", None)
        if endpoint is None or converters is None or not _is_socket_route(route):
            continue
        parameters = list(inspect.signature(endpoint).parameters)
        if parameters and set(parameters[1:]) <= set(converters):
            found.append((route, endpoint))
    return found


def _is_socket_route(route: BaseRoute) -> bool:
    from fastapi.routing import APIWebSocketRoute

    return isinstance(route, WebSocketRoute | APIWebSocketRoute)


class DirectWebSocket(WebSocket):
    """A Starlette WebSocket whose `receive`, once connected, hands back the server's own
    awaitable: no coroutine of Starlette's waits in every idle socket's read (~0.2 KB each).
    A disconnect still arrives as the `websocket.disconnect` message the handlers check for."""

    # Returns the server's awaitable (a future) rather than being a coroutine itself.
    def receive(self) -> Awaitable[Message]:  # type: ignore[override]
        if self.client_state is WebSocketState.CONNECTED:
            return self._receive()
        return super().receive()

    def ready_frame_writer(self) -> Callable[[bytes], bool] | None:
        """Where whole frames made once for many sockets can be written in place (the lean
        transport only); None under another transport."""
        return ready_frame_writer(self._send)

    def limit_message_bytes(self, limit: int) -> None:
        """Refuse (close 1009) any message over `limit` bytes from now on, under either
        transport: uvicorn's is told through its `websockets` protocol object."""
        connection = lean_connection(self._send)
        if connection is not None:
            connection.limit_message_bytes(limit)
            return
        protocol = getattr(getattr(self._send, "__self__", None), "conn", None)
        if protocol is not None and hasattr(protocol, "max_message_size"):
            protocol.max_message_size = limit

    def offer_texts(self, handler: Callable[[str], bool]) -> None:
        """Have the lean transport offer each text message to `handler` as it is read, while
        `receive` waits (see `LeanWebSocketProtocol.offer_texts`); under another transport
        nothing changes, and every message comes through `receive`."""
        connection = lean_connection(self._send)
        if connection is not None:
            connection.offer_texts(handler)


def _direct_call(
    routes: list[tuple[BaseRoute, Endpoint]],
    owner: Any,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> Awaitable[None] | None:
    """The endpoint's coroutine for a socket on a direct route, else None."""
    if scope["type"] != "websocket":
        return None
    for route, endpoint in routes:
        match, child = route.matches(scope)
        if match is Match.FULL:
            # In place, as Starlette's router does: a copy would live as long as the socket.
            scope.update(child)
            scope["app"] = owner
            return endpoint(DirectWebSocket(scope, receive, send), **child["path_params"])
    return None


class DirectSockets:
    """ASGI wrapper: sockets matching a direct route go straight to it, the rest to `app`.

    `__call__` hands back the endpoint's coroutine instead of awaiting it (the caller awaits
    it): no frame of this wrapper waits for the socket's whole life."""

    def __init__(self, app: ASGIApp, owner: Any, routes: list[tuple[BaseRoute, Endpoint]]) -> None:
        self.app = app
        self.owner = owner
        self.routes = routes

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        direct = _direct_call(self.routes, self.owner, scope, receive, send)
        return direct if direct is not None else self.app(scope, receive, send)


class SocketFront:
    """The server's entry point: a socket on a direct route starts straight in its endpoint,
    so neither FastAPI's nor Starlette's `__call__` frame waits above it for the socket's life
    (about 0.5 KB per idle socket); everything else goes to the app. Plain `__call__`: serve it
    with uvicorn's `interface="asgi3"`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        app = self.app
        if scope["type"] == "websocket":
            state = getattr(app.state, "cowrite", None)
            if state is not None and state.draining:
                return refuse_while_draining(send)
            stack = app.middleware_stack
            if stack is None:  # built on first use, as Starlette does
                stack = app.middleware_stack = app.build_middleware_stack()
            if isinstance(stack, DirectSockets):
                if app.root_path:
                    scope["root_path"] = app.root_path
                direct = _direct_call(stack.routes, stack.owner, scope, receive, send)
                if direct is not None:
                    return direct
        result: Awaitable[None] = app(scope, receive, send)
        return result


async def refuse_while_draining(send: Send) -> None:
    """A socket asked for while this process stops: 503 before the upgrade, so a proxy passes
    the handshake to another process (the client would otherwise reconnect here in vain)."""
    await send(
        {
            "type": "websocket.http.response.start",
            "status": 503,
            "headers": [(b"retry-after", b"1"), (b"content-type", b"text/plain")],
        }
    )
    await send({"type": "websocket.http.response.body", "body": b"server shutting down"})
