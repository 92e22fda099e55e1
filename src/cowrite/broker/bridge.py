"""Carries the kit's domain events between processes, so sockets everywhere react to them.

A local event is published once on the `events` channel; an event from another process is
emitted on the local hub and, being marked as inbound, is not published again (the broker never
echoes, so nothing loops). Events that cannot be sent while the broker is away wait in a bounded
outbox and go out, in order, when it reconnects: a revocation must not be forgotten. With a
journal (Redis), every event is also kept for a while under an id, so a process whose broker
connection dropped reads what it missed when it reconnects; ids make each event count once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
import uuid
from collections import OrderedDict, deque
from typing import Any, Protocol

import orjson

from cowrite.broker.base import Broker
from cowrite.kit.events import (
    DocumentAccessChanged,
    DocumentTrashed,
    EventHub,
    LoginsRevoked,
    MembershipChanged,
    SharesRevoked,
    WorkspaceDeleted,
)

log = logging.getLogger(__name__)

EVENTS_CHANNEL = "events"
BRIDGED_EVENTS: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        MembershipChanged,
        WorkspaceDeleted,
        LoginsRevoked,
        DocumentTrashed,
        SharesRevoked,
        DocumentAccessChanged,
    )
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


class EventJournal(Protocol):
    """Recent events kept where a process that was cut off can read what it missed."""

    async def append(self, data: bytes) -> str | None:
        """Keep an event; its entry id ("<ms>-<seq>"), or None when the journal is away."""
        ...

    async def read_since(self, milliseconds: int) -> list[tuple[str, bytes]]:
        """The entries kept since a time (the journal's clock), oldest first."""
        ...


def _entry_ms(entry_id: str) -> int:
    return int(entry_id.split("-", 1)[0]) if entry_id else 0


class EventBridge:
    def __init__(
        self,
        events: EventHub,
        broker: Broker,
        *,
        journal: EventJournal | None = None,
        outbox_limit: int = 10_000,
        catch_up_slack_ms: int = 5_000,
    ) -> None:
        self.events = events
        self.broker = broker
        self.journal = journal
        self._inbound: set[int] = set()  # ids of the remote events being re-emitted right now
        # (journal entry id or "", encoded event) that could not be sent yet, in order.
        self._outbox: deque[tuple[str, bytes]] = deque(maxlen=outbox_limit)
        self._flushing = asyncio.Lock()
        self._seen: OrderedDict[str, None] = OrderedDict()  # journal ids already handled
        self._seen_limit = outbox_limit
        self._started_ms = int(time.time() * 1000)
        self._last_seen_ms = self._started_ms
        self._slack_ms = catch_up_slack_ms

    async def start(self) -> None:
        for cls in BRIDGED_EVENTS.values():
            self.events.subscribe(cls, self._forward)
        await self.broker.subscribe(EVENTS_CHANNEL, self._receive)
        self.broker.add_reconnect_hook(self.reconnected)

    async def close(self) -> None:
        for cls in BRIDGED_EVENTS.values():
            self.events.unsubscribe(cls, self._forward)
        await self.broker.unsubscribe(EVENTS_CHANNEL, self._receive)
        self.broker.remove_reconnect_hook(self.reconnected)
        if self._outbox:
            log.warning("%d events were never sent to other processes", len(self._outbox))

    @property
    def pending(self) -> int:
        return len(self._outbox)

    async def _forward(self, event: object) -> None:
        if id(event) in self._inbound:
            return
        if len(self._outbox) == self._outbox.maxlen:
            log.error("event outbox full: the oldest event is dropped")
        self._outbox.append(("", encode_event(event)))
        await self.flush()

    async def flush(self) -> None:
        """Send what is waiting, in order; stops at the first thing that cannot go yet."""
        async with self._flushing:
            while self._outbox:
                entry_id, data = self._outbox[0]
                if self.journal is not None and not entry_id:
                    entry_id = await self.journal.append(data) or ""
                    if not entry_id:
                        return
                    self._mark_seen(entry_id)
                    self._outbox[0] = (entry_id, data)
                message = entry_id.encode() + b"|" + data
                if not await self.broker.try_publish(EVENTS_CHANNEL, message):
                    return
                self._outbox.popleft()

    async def reconnected(self) -> None:
        """The broker's reconnect hook: send what waited, then read what was missed."""
        await self.flush()
        if self.journal is None:
            return
        since = max(self._started_ms, self._last_seen_ms - self._slack_ms)
        try:
            entries = await self.journal.read_since(since)
        except Exception:
            log.exception("could not read the missed events")
            return
        for entry_id, data in entries:
            await self._handle(entry_id, data)

    async def _receive(self, message: bytes) -> None:
        entry_id, _, data = message.partition(b"|")
        await self._handle(entry_id.decode(), data)

    async def _handle(self, entry_id: str, data: bytes) -> None:
        if entry_id:
            if entry_id in self._seen:
                return
            self._mark_seen(entry_id)
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

    def _mark_seen(self, entry_id: str) -> None:
        self._seen[entry_id] = None
        if len(self._seen) > self._seen_limit:
            self._seen.popitem(last=False)
        self._last_seen_ms = max(self._last_seen_ms, _entry_ms(entry_id))
