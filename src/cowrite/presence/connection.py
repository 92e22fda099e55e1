"""One `/ws` connection: who it is, and its bounded outbox drained by its own writer task.

The outbox holds three kinds of items. Replies (acks, errors, presence lists) and state events
(joins, leaves, editing) are always delivered, in order. Cursor, selection and typing events are
kept per source connection and kind: a newer one replaces the pending one in place, so a slow
reader skips intermediate positions. A reader so far behind that its outbox overflows anyway is
closed; the room never waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Protocol

from cowrite.presence.protocol import batch_frame

log = logging.getLogger(__name__)

REPLY = 0  # a frame of its own (never batched)
EVENT = 1  # an event that is always delivered
LATEST = 2  # an event only the latest of which matters, per (source connection, kind)

CLOSE_TOO_SLOW = 1008
CLOSE_WAIT_SECONDS = 5.0


class Socket(Protocol):
    """The transport a connection writes to (a Starlette WebSocket, or a test fake)."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


class _Slot:
    """A replaceable outbox entry; `data` is None once superseded elsewhere."""

    __slots__ = ("data", "key")

    def __init__(self, data: str, key: tuple[uuid.UUID, str]) -> None:
        self.data: str | None = data
        self.key = key


class Connection:
    def __init__(
        self,
        socket: Socket,
        *,
        connection_id: uuid.UUID,
        user_id: uuid.UUID,
        login_id: uuid.UUID | None,
        full_name: str,
        device_type: str,
        queue_max: int,
    ) -> None:
        self.socket = socket
        self.id = connection_id
        self.user_id = user_id
        self.login_id = login_id
        self.full_name = full_name
        self.device_type = device_type
        self.batch = False
        self.rooms: set[uuid.UUID] = set()
        self.last_activity = time.monotonic()
        self.closed = False
        self._queue_max = queue_max
        self._items: deque[tuple[int, str | _Slot]] = deque()
        self._latest: dict[tuple[uuid.UUID, str], _Slot] = {}
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._close_code: int | None = None
        self._close_reason = ""
        # Called when the close frame cannot be sent (the socket handler then ends the socket).
        self.on_abort: Callable[[], None] | None = None

    # -- queueing (synchronous: the room's flush never awaits a reader) ------------------------

    def send(self, frame: str) -> None:
        """A reply or a frame of its own, always delivered in order."""
        self._push((REPLY, frame))

    def send_event(self, event: str, source: uuid.UUID | None = None) -> None:
        """An event that must arrive (join, leave, editing). Pending replaceable events of the
        same source stay where they are, so order is kept."""
        if source is not None and self._latest:
            for kind in ("cursor_move", "selection_change", "typing"):
                self._latest.pop((source, kind), None)
        self._push((EVENT, event))

    def send_latest(self, event: str, source: uuid.UUID, kind: str) -> None:
        """An event superseded by the next one of the same source and kind."""
        key = (source, kind)
        slot = self._latest.get(key)
        if slot is not None:
            slot.data = event
            return
        slot = _Slot(event, key)
        self._latest[key] = slot
        self._push((LATEST, slot))

    def _push(self, item: tuple[int, str | _Slot]) -> None:
        if self.closed:
            return
        self._items.append(item)
        if len(self._items) > self._queue_max:
            log.info("closing a /ws reader that fell too far behind")
            self.close_soon(CLOSE_TOO_SLOW, "too slow")
            return
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._items)

    # -- the writer ------------------------------------------------------------------------------

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name=f"ws-writer-{self.id}")

    def close_soon(self, code: int, reason: str = "") -> None:
        """Stop accepting frames and close now: pending frames are dropped, the close goes first."""
        if self.closed:
            return
        self.closed = True
        self._close_code = code
        self._close_reason = reason
        self._items.clear()
        self._latest.clear()
        self._wake.set()

    async def _write_loop(self) -> None:
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                while self._items and not self.closed:
                    for frame in self._drain():
                        await self.socket.send_text(frame)
                        if self.closed:
                            break
        except Exception as exc:  # the peer went away mid-send; the reader notices too
            log.debug("ws writer stopped: %r", exc)
            self.closed = True
        if self._close_code is not None:
            try:
                # A reader that stopped reading never lets the close frame out: give up on it.
                await asyncio.wait_for(
                    self.socket.close(self._close_code, self._close_reason), CLOSE_WAIT_SECONDS
                )
            except Exception:
                if self.on_abort is not None:
                    self.on_abort()

    def _drain(self) -> list[str]:
        """Everything pending, as the frames to send: events grouped when batching."""
        frames: list[str] = []
        events: list[str] = []
        items = self._items
        while items:
            kind, payload = items.popleft()
            if kind == LATEST:
                slot = payload
                assert isinstance(slot, _Slot)
                if self._latest.get(slot.key) is slot:
                    del self._latest[slot.key]
                if slot.data is None:
                    continue
                data = slot.data
            else:
                assert isinstance(payload, str)
                data = payload
            if kind == REPLY or not self.batch:
                if events:
                    frames.append(batch_frame(events))
                    events = []
                frames.append(data)
            else:
                events.append(data)
        if events:
            frames.append(batch_frame(events))
        return frames

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket and wait for the writer to finish."""
        self.close_soon(code, reason)
        if self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._writer, timeout=2)
            if not self._writer.done():
                self._writer.cancel()

    async def finish(self) -> None:
        """The socket handler is done: let a requested close go out, else stop the writer."""
        if self._close_code is not None and self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._writer), CLOSE_WAIT_SECONDS + 1)
        self.closed = True
        self._wake.set()
        if self._writer is not None and not self._writer.done():
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer
