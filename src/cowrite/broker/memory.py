"""In-memory broker: nodes on one bus in one process (the embedded default, and test fakes)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import defaultdict

from cowrite.broker.base import MessageHandler, ReconnectHook

log = logging.getLogger(__name__)


class MemoryBus:
    """What several in-process nodes share; each app gets its own unless a test joins them."""

    def __init__(self) -> None:
        self.nodes: list[MemoryBroker] = []


class MemoryBroker:
    def __init__(self, node_id: str, bus: MemoryBus | None = None) -> None:
        self.node_id = node_id
        self.bus = bus or MemoryBus()
        self._handlers: dict[str, list[MessageHandler]] = defaultdict(list)
        self._reconnect_hooks: list[ReconnectHook] = []
        self._sending: set[asyncio.Task[bool]] = set()

    async def start(self) -> None:
        if self not in self.bus.nodes:
            self.bus.nodes.append(self)

    async def close(self) -> None:
        if self in self.bus.nodes:
            self.bus.nodes.remove(self)
        self._handlers.clear()

    async def publish(self, channel: str, data: bytes) -> None:
        await self.try_publish(channel, data)

    async def try_publish(self, channel: str, data: bytes) -> bool:
        for node in list(self.bus.nodes):
            if node is not self:
                await node._deliver(channel, data)
        return True

    @property
    def has_peers(self) -> bool:
        return any(node is not self for node in self.bus.nodes)

    def publish_soon(self, channel: str, data: bytes) -> None:
        if not self.has_peers:
            return  # alone on the bus (the embedded default): nobody to tell
        task = asyncio.ensure_future(self.try_publish(channel, data))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def flush(self) -> None:
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    async def _deliver(self, channel: str, data: bytes) -> None:
        for handler in list(self._handlers.get(channel, ())):
            try:
                result = handler(data)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("broker handler failed on %s", channel)

    async def subscribe(self, channel: str, handler: MessageHandler) -> None:
        self._handlers[channel].append(handler)

    async def unsubscribe(self, channel: str, handler: MessageHandler) -> None:
        handlers = self._handlers.get(channel)
        if handlers and handler in handlers:
            handlers.remove(handler)
            if not handlers:
                del self._handlers[channel]

    async def ping(self) -> bool:
        return True

    def add_reconnect_hook(self, hook: ReconnectHook) -> None:
        # An in-process bus never disconnects, so the hooks never run; kept for the contract.
        self._reconnect_hooks.append(hook)

    def remove_reconnect_hook(self, hook: ReconnectHook) -> None:
        if hook in self._reconnect_hooks:
            self._reconnect_hooks.remove(hook)
