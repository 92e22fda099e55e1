"""What every lean socket of one server shares: the app, the limits, the logger, the keepalive
timer. Held once per server instead of copied onto each of thousands of connections.

The keepalive is spread over the ping interval: open sockets sit in `KEEPALIVE_SLICES` groups
(by their identity, so each stays in one group for life) and every 1/`KEEPALIVE_SLICES` of the
interval one group is pinged. Each socket is still pinged once per interval, and a busy room
never sees all of its sockets' pings (and their pongs) land in the same loop turn."""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from uvicorn.config import Config
from uvicorn.protocols.utils import get_local_addr, get_remote_addr, is_ssl
from uvicorn.server import ServerState

from cowrite.leanws.frames import UpgradeRequest

if TYPE_CHECKING:
    from cowrite.leanws.protocol import LeanWebSocketProtocol

_shared: weakref.WeakKeyDictionary[ServerState, Shared] = weakref.WeakKeyDictionary()
KEEPALIVE_SLICES = 16


@dataclass
class TransportLimits:
    """What one connection may cost; uvicorn's config has no place for these, so the app
    factory sets them (`configure`) before the server takes connections."""

    write_buffer_max: int = 16 * 1024 * 1024  # unsent bytes (pongs included) before failing
    max_fragments: int = 1024  # frames in one fragmented message
    close_timeout: float = 5.0  # for the peer's answer to a close, or to take what is unsent
    max_head_bytes: int = 64 * 1024  # an HTTP request head, upgrades included
    head_timeout: float = 10.0  # for a whole request head to arrive
    max_connections: int = 25_000  # per process, HTTP and WebSocket together
    control_rate: float = 10.0  # pings and pongs a peer may send per second…
    control_burst: int = 100  # …after this many at once


LIMITS = TransportLimits()


def configure(**limits: float) -> None:
    """Set the limits (names of `TransportLimits`) that connections made from now on follow."""
    for name, value in limits.items():
        if not hasattr(LIMITS, name):
            raise TypeError(f"unknown transport limit {name!r}")
        setattr(LIMITS, name, type(getattr(LIMITS, name))(value))


class Shared:
    """Per-server settings and the one keepalive sweep over all open sockets."""

    __slots__ = (
        "_addresses",
        "_groups",
        "_next_group",
        "_open",
        "_sweep",
        "app",
        "app_state",
        "asgi",
        "close_timeout",
        "connections",
        "control_burst",
        "control_rate",
        "extensions",
        "logger",
        "loop",
        "max_fragments",
        "max_queue",
        "max_size",
        "ping_interval",
        "root_path",
        "root_path_bytes",
        "server_state",
        "tasks",
        "timeout_sweeps",
        "write_buffer_max",
    )

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        if not config.loaded:
            config.load()
        self.app = config.loaded_app
        self.loop = loop
        self.logger = logging.getLogger("uvicorn.error")
        self.server_state = server_state
        self.connections = server_state.connections
        self.tasks = server_state.tasks
        self.app_state = app_state
        self.root_path = config.root_path
        self.root_path_bytes = config.root_path.encode("ascii")
        # Shared by every scope: ASGI apps read these, none writes them.
        self.asgi = {"version": config.asgi_version, "spec_version": "2.4"}
        self.extensions: dict[str, Any] = {"websocket.http.response": {}}
        self.max_size = config.ws_max_size
        self.max_queue = max(1, config.ws_max_queue)
        self.write_buffer_max = LIMITS.write_buffer_max
        self.max_fragments = LIMITS.max_fragments
        self.close_timeout = LIMITS.close_timeout
        self.control_rate = LIMITS.control_rate
        self.control_burst = LIMITS.control_burst
        interval = config.ws_ping_interval
        self.ping_interval = interval if interval and interval > 0 else None
        timeout = config.ws_ping_timeout
        self.timeout_sweeps: int | None = None
        if self.ping_interval is not None and timeout is not None:
            self.timeout_sweeps = max(1, math.ceil(timeout / self.ping_interval))
        self._addresses: dict[Any, Any] = {}
        self._sweep: asyncio.TimerHandle | None = None
        # Open sockets by keepalive group; `_open` counts them all.
        self._groups: list[set[LeanWebSocketProtocol]] = [set() for _ in range(KEEPALIVE_SLICES)]
        self._next_group = 0
        self._open = 0

    def default_headers(self) -> list[tuple[bytes, bytes]]:
        """The server's own headers (date, server) as uvicorn keeps them up to date."""
        return self.server_state.default_headers

    def intern(self, address: Any) -> Any:
        """One tuple for the server address all sockets share."""
        if address is None:
            return None
        return self._addresses.setdefault(address, address)

    def scope_for(self, transport: asyncio.Transport, upgrade: UpgradeRequest) -> dict[str, Any]:
        """The ASGI scope of an accepted upgrade; the constant parts are shared, not copied."""
        raw_path, _, query = upgrade.target.partition(b"?")
        path = raw_path.decode("latin-1")
        if "%" in path:
            path = unquote(path)
        return {
            "type": "websocket",
            "asgi": self.asgi,
            "http_version": "1.1",
            "scheme": "wss" if is_ssl(transport) else "ws",
            "server": self.intern(get_local_addr(transport)),
            "client": get_remote_addr(transport),
            "root_path": self.root_path,
            "path": self.root_path + path,
            "raw_path": self.root_path_bytes + raw_path,
            "query_string": query,
            "headers": upgrade.headers,
            "subprotocols": upgrade.subprotocols,
            "state": self.app_state.copy(),
            "extensions": self.extensions,
        }

    def start_app(self, connection: LeanWebSocketProtocol) -> None:
        """Run the app on an upgraded connection as a task of its own (no wrapping coroutine:
        its outcome is read in a done callback, so no extra frame waits per socket)."""
        awaitable = self.app(connection.scope, connection.receive, connection.send)
        task = self.loop.create_task(
            awaitable if asyncio.iscoroutine(awaitable) else _awaiting(awaitable)
        )
        self.tasks.add(task)
        task.add_done_callback(connection.app_done)

    def log_handshake(self, connection: LeanWebSocketProtocol, outcome: str) -> None:
        if not self.logger.isEnabledFor(logging.INFO):
            return
        scope = connection.scope or {}
        client = scope.get("client")
        where = f"{client[0]}:{client[1]}" if client else ""
        self.logger.info('%s - "WebSocket %s" %s', where, scope.get("path", ""), outcome)

    def watch(self, connection: LeanWebSocketProtocol) -> None:
        """Keep an opened socket alive: in its group, and the sweep running."""
        if self.ping_interval is None:
            return
        group = self._groups[_group_of(connection)]
        if connection not in group:
            group.add(connection)
            self._open += 1
        if self._sweep is None:
            self._sweep = self.loop.call_later(
                self.ping_interval / KEEPALIVE_SLICES, self._keepalive
            )

    def unwatch(self, connection: LeanWebSocketProtocol) -> None:
        group = self._groups[_group_of(connection)]
        if connection in group:
            group.discard(connection)
            self._open -= 1

    def _keepalive(self) -> None:
        """One slice of the sweep: ping one group (it stops by itself when no socket is left)."""
        self._sweep = None
        index = self._next_group
        self._next_group = (index + 1) % KEEPALIVE_SLICES
        for connection in list(self._groups[index]):
            connection.keepalive(self.timeout_sweeps)
        if self._open > 0 and self.ping_interval is not None:
            self._sweep = self.loop.call_later(
                self.ping_interval / KEEPALIVE_SLICES, self._keepalive
            )


def _group_of(connection: object) -> int:
    return (id(connection) >> 4) % KEEPALIVE_SLICES


async def _awaiting(awaitable: Any) -> None:
    await awaitable


def shared_for(
    config: Config,
    server_state: ServerState,
    app_state: dict[str, Any],
    loop: asyncio.AbstractEventLoop | None,
) -> Shared:
    """The server's `Shared`, made by its first socket."""
    found = _shared.get(server_state)
    if found is None or found.app_state is not app_state:
        found = Shared(config, server_state, app_state, loop or asyncio.get_event_loop())
        _shared[server_state] = found
    return found
