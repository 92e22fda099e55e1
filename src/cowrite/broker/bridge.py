"""Carries the kit's domain events between processes, so sockets everywhere react to them.

A local event is published once on the `events` channel; an event from another process is
emitted on the local hub and, being marked as inbound, is not published again (the broker never
echoes, so nothing loops). Events that cannot be sent while the broker is away wait in a bounded
outbox and go out, in order, when it reconnects: a revocation must not be forgotten.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import uuid
from collections import deque
from typing import Any

import orjson

from cowrite.broker.base import Broker
from cowrite.kit.events import (
    DocumentTrashed,
    EventHub,
    LoginsRevoked,
    MembershipChanged,
    WorkspaceDeleted,
)

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "events"
BRIDGED_EVENTS: dict[str, type] = {
    cls.__name__: cls
    for cls in (MembershipChanged, WorkspaceDeleted, LoginsRevoked, DocumentTrashed)
}


def encode_event(event: object) -> bytes:
    body: dict[str, Any] = {"type": type(event).__name__}
    for field in dataclasses.fields(event):  # type: ignore[arg-type]  # bridged events are dataclasses
        value = getattr(event, field.name)
        if isinstance(value, uuid.UUID):
            value = str(value)
        elif isinstance(value, tuple):
            value = [str(item) if isinstance(item, uuid.UUID) else item for item in value]
        body[field.name] = value
    return orjson.dumps(body)


def decode_event(data: bytes) -> object:
    """The event a peer published; raises ValueError/KeyError/TypeError on garbage."""
    body = orjson.loads(data)
    cls = BRIDGED_EVENTS[body.pop("type")]
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        value = body[field.name]
        kind = str(field.type)
        if kind == "UUID":
            value = uuid.UUID(value)
        elif kind.startswith("tuple[UUID"):
            value = tuple(uuid.UUID(item) for item in value)
        values[field.name] = value
    return cls(**values)


class EventBridge:
    def __init__(self, events: EventHub, broker: Broker, *, outbox_limit: int = 10_000) -> None:
        self.events = events
        self.broker = broker
        self._inbound: set[int] = set()  # ids of the remote events being re-emitted right now
        self._outbox: deque[bytes] = deque(maxlen=outbox_limit)
        self._flushing = asyncio.Lock()

    async def start(self) -> None:
        for cls in BRIDGED_EVENTS.values():
            self.events.subscribe(cls, self._forward)
        await self.broker.subscribe(EVENTS_CHANNEL, self._receive)
        self.broker.add_reconnect_hook(self.flush)

    async def close(self) -> None:
        for cls in BRIDGED_EVENTS.values():
            self.events.unsubscribe(cls, self._forward)
        await self.broker.unsubscribe(EVENTS_CHANNEL, self._receive)
        self.broker.remove_reconnect_hook(self.flush)
        if self._outbox:
            log.warning("%d events were never sent to other processes", len(self._outbox))

    @property
    def pending(self) -> int:
        return len(self._outbox)

    async def _forward(self, event: object) -> None:
        if id(event) in self._inbound:
            return
        data = encode_event(event)
        if self._outbox:
            self._outbox.append(data)  # keep the order behind what is already waiting
            await self.flush()
        elif not await self.broker.publish(EVENTS_CHANNEL, data):
            if len(self._outbox) == self._outbox.maxlen:
                log.error("event outbox full: the oldest event is dropped")
            self._outbox.append(data)

    async def flush(self) -> None:
        """Send what waited while the broker was away (also the broker's reconnect hook)."""
        async with self._flushing:
            while self._outbox:
                if not await self.broker.publish(EVENTS_CHANNEL, self._outbox[0]):
                    return
                self._outbox.popleft()

    async def _receive(self, data: bytes) -> None:
        try:
            event = decode_event(data)
        except (ValueError, KeyError, TypeError):
            log.warning("ignored an undecodable event from another process")
            return
        self._inbound.add(id(event))
        try:
            await self.events.emit(event)
        finally:
            self._inbound.discard(id(event))
