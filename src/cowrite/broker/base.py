"""The broker contract: publish bytes on a channel to the *other* processes that subscribe.

Local delivery is the caller's own business (it already has the recipients at hand), so a
broker never echoes a message back to the process that sent it. Delivery is best effort: a
broker may lose messages (Redis pub/sub does while it reconnects), so whoever needs every
message repairs from the database; reconnect hooks tell them when to.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

MessageHandler = Callable[[bytes], Awaitable[None] | None]
ReconnectHook = Callable[[], Awaitable[None]]


class Broker(Protocol):
    node_id: str

    @property
    def has_peers(self) -> bool:
        """Whether other processes may be listening (False: publishing would reach nobody)."""
        ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, data: bytes) -> None:
        """Hand a message to the other processes, best effort; never raises."""
        ...

    async def try_publish(self, channel: str, data: bytes) -> bool:
        """Like publish, but False when the message could not be handed over now."""
        ...

    def publish_soon(self, channel: str, data: bytes) -> None:
        """Publish without waiting, in order with the other `publish_soon` calls; for hot paths
        (messages queued meanwhile go out together)."""
        ...

    async def flush(self) -> None:
        """Until what `publish_soon` queued so far has been handed over (or given up)."""
        ...

    async def subscribe(self, channel: str, handler: MessageHandler) -> None: ...

    async def unsubscribe(self, channel: str, handler: MessageHandler) -> None: ...

    async def ping(self) -> bool:
        """True when the broker can carry messages now."""
        ...

    def add_reconnect_hook(self, hook: ReconnectHook) -> None:
        """Run `hook` each time the broker (re)connects: messages may have been lost before."""
        ...

    def remove_reconnect_hook(self, hook: ReconnectHook) -> None: ...
