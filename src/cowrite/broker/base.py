"""The broker contract: publish bytes on a channel to the *other* processes that subscribe.

Local delivery is the caller's own business (it already has the recipients at hand), so a
broker never echoes a message back to the process that sent it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

MessageHandler = Callable[[bytes], Awaitable[None] | None]


class Broker(Protocol):
    node_id: str

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, channel: str, data: bytes) -> None: ...

    async def subscribe(self, channel: str, handler: MessageHandler) -> None: ...

    async def unsubscribe(self, channel: str, handler: MessageHandler) -> None: ...

    async def ping(self) -> bool:
        """True when the broker can carry messages now."""
        ...
