"""A document room: its local `/ws` members and the events waiting for the next flush tick.

Events are collected for one tick (`presence_flush_interval_ms`, timed from the room's first
event waiting), keeping only the latest cursor, selection and typing state per
connection; the flush encodes each event once and hands the same string to every member's
outbox (the sender's own connections excluded). Events from other processes join the same
tick, already encoded.
"""

from __future__ import annotations

import struct
import uuid
from typing import Any

from cowrite.presence.connection import Connection, EncodedEvent, Tick
from cowrite.presence.protocol import encode

# Kinds whose latest value replaces earlier ones (pending in the room, and in slow outboxes).
LATEST_KINDS = frozenset({"cursor_move", "selection_change", "typing"})

_HEADER = struct.Struct("!B16sI")  # latest? , source connection id, length of the event
_KIND_CODES = {"cursor_move": 1, "selection_change": 2, "typing": 3}
_CODE_KINDS = {code: kind for kind, code in _KIND_CODES.items()}


# (source connection, kind, body): the event as queued, encoded at the flush unless it came
# encoded (from another process, or already encoded for one).
PendingEvent = tuple[uuid.UUID, str, dict[str, Any] | str]


class Room:
    def __init__(self, document_id: uuid.UUID, workspace_id: uuid.UUID) -> None:
        self.document_id = document_id
        self.document_text = str(document_id)
        self.channel = f"presence:{document_id}"
        self.workspace_id = workspace_id
        self.members: dict[uuid.UUID, Connection] = {}
        self._pending: list[PendingEvent | None] = []
        # By (source id as an int, kind): an int hashes in C, a UUID in Python.
        self._latest_at: dict[tuple[int, str], int] = {}

    def queue(self, source: uuid.UUID, kind: str, body: dict[str, Any] | str) -> None:
        """Collect an event for the next tick; a later cursor/selection/typing of the same
        connection replaces the earlier one. `kind` "" (or any other) must arrive."""
        event = (source, kind, body)
        if kind in LATEST_KINDS:
            key = (source.int, kind)
            index = self._latest_at.get(key)
            if index is not None:
                self._pending[index] = event
                return
            self._latest_at[key] = len(self._pending)
        else:
            # An event that must arrive closes the coalescing window of its source, so the
            # peers see cursor → leave → (re)join in that order.
            for latest in LATEST_KINDS:
                self._latest_at.pop((source.int, latest), None)
        self._pending.append(event)

    def take_pending(self) -> list[EncodedEvent]:
        """The tick's events, each encoded once."""
        pending, self._pending = self._pending, []
        self._latest_at.clear()
        return [
            EncodedEvent(
                source,
                kind if kind in LATEST_KINDS else "",
                body if isinstance(body, str) else encode(body),
            )
            for source, kind, body in filter(None, pending)
        ]

    def deliver(self, events: list[EncodedEvent]) -> None:
        """Hand the tick to every local member (each skips the events it sent itself)."""
        if not events:
            return
        tick = Tick(events)
        for member in self.members.values():
            member.send_tick(tick)


def pack_events(events: list[EncodedEvent]) -> bytes:
    """The broker message for a tick: the same encoded events behind a small binary header."""
    parts: list[bytes] = []
    for event in events:
        data = event.data.encode()
        parts.append(_HEADER.pack(_KIND_CODES.get(event.kind, 0), event.source.bytes, len(data)))
        parts.append(data)
    return b"".join(parts)


def unpack_events(message: bytes) -> list[EncodedEvent]:
    events: list[EncodedEvent] = []
    offset = 0
    view = memoryview(message)
    while offset < len(message):
        code, source, length = _HEADER.unpack_from(view, offset)
        offset += _HEADER.size
        data = bytes(view[offset : offset + length]).decode()
        offset += length
        events.append(EncodedEvent(uuid.UUID(bytes=source), _CODE_KINDS.get(code, ""), data))
    return events
