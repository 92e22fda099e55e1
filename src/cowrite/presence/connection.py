"""One `/ws` connection: who it is, and what it has yet to be sent, over the shared outbox
(`realtime.outbox`: the one send loop and slow-reader policy of both sockets).

The room hands each member one shared `Tick` (the events of a flush, each encoded once) per
flush, so fan-out costs one call per member, not one per member and event. A reader that keeps
up gets the tick's shared frame as is, written straight to the transport. While its socket is
busy (a send suspended) what comes stays here as items, and once it drains the outbox asks for
them: everything pending merged, keeping only the latest cursor, selection and typing event of
each connection — it skips intermediate positions but never a join, leave or editing change. A
reader so far behind that what waits passes the outbox's byte cap is closed; the room never
waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from cowrite.presence.protocol import batch_frame
from cowrite.realtime.outbox import SEND_QUEUE_MAX_BYTES, Frame, Outbox

log = logging.getLogger(__name__)

CLOSE_WAIT_SECONDS = 5.0


class Socket(Protocol):
    """The transport a connection writes to (a Starlette WebSocket, or a test fake)."""

    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000, reason: str | None = None) -> None: ...


@dataclass(slots=True)
class EncodedEvent:
    source: uuid.UUID
    kind: str  # "cursor_move" | "selection_change" | "typing", or "" for one that must arrive
    data: str


class Tick:
    """The events of one room flush, shared by every member's outbox."""

    __slots__ = ("_frame", "events", "size", "sources")

    def __init__(self, events: list[EncodedEvent]) -> None:
        self.events = events
        # By the ids' integers: a UUID hashes in Python, an int in C (checked once per member).
        self.sources = {event.source.int for event in events}
        self.size = sum(len(event.data) for event in events)
        self._frame: Frame | None = None

    def shared_batch(self) -> str:
        """The batch frame of all events, built once for every member that sent none of them."""
        return self.shared_frame().payload  # type: ignore[return-value]  # a text frame

    def shared_frame(self) -> Frame:
        """`shared_batch` as one outgoing frame for every member."""
        if self._frame is None:
            self._frame = Frame(batch_frame([event.data for event in self.events]))
        return self._frame


_REPLY = 0
_EVENT = 1
_TICK = 2


def _size(kind: int, payload: object) -> int:
    if kind == _REPLY:
        return len(payload)  # type: ignore[arg-type]  # a str
    if kind == _EVENT:
        return len(payload.data)  # type: ignore[attr-defined]  # an EncodedEvent
    return payload.size  # type: ignore[attr-defined]  # a Tick


class Connection:
    __slots__ = (
        "_items",
        "batch",
        "closed",
        "device_type",
        "full_name",
        "id",
        "id_text",
        "last_activity",
        "login_id",
        "on_abort",
        "outbox",
        "rooms",
        "socket",
        "user_id",
        "user_id_text",
    )

    def __init__(
        self,
        socket: Socket,
        *,
        connection_id: uuid.UUID,
        user_id: uuid.UUID,
        login_id: uuid.UUID | None,
        full_name: str,
        device_type: str,
        queue_bytes: int = SEND_QUEUE_MAX_BYTES,
        ready_frame_writer: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.socket = socket
        self.id = connection_id
        self.user_id = user_id
        # Their text forms, which every event this connection sends carries.
        self.id_text = str(connection_id)
        self.user_id_text = str(user_id)
        self.login_id = login_id
        self.full_name = full_name
        self.device_type = device_type
        self.batch = False
        self.rooms: set[uuid.UUID] = set()
        self.last_activity = time.monotonic()
        self.closed = False
        self.outbox = Outbox(
            lambda frame: socket.send_text(frame.payload),  # type: ignore[arg-type]  # text
            socket.close,
            write_ready=ready_frame_writer,
            max_bytes=queue_bytes,
        )
        self.outbox.on_close = self._outbox_closed
        self._items: list[tuple[int, object]] = []
        # Called when the close frame cannot be sent (the socket handler then ends the socket).
        self.on_abort: Callable[[], object] | None = None

    # -- queueing (synchronous: a room's flush never awaits a reader) ----------------------------

    def send(self, frame: str) -> None:
        """A reply or notice: a frame of its own, always delivered, in order."""
        self._push((_REPLY, frame))

    def send_event(self, event: EncodedEvent) -> None:
        """One event for this connection alone (batched like room events)."""
        self._push((_EVENT, event))

    def send_tick(self, tick: Tick) -> None:
        if self.batch and not self._items and not self.closed and not self.outbox.busy:
            # The common cases, kept short: nothing pending, so this tick alone is sent.
            own = self.id.int
            if own not in tick.sources:  # none of the events is ours: the shared frame
                self.outbox.put(tick.shared_frame())
            else:
                # The room already kept only the latest move of each source, so the tick
                # without our own events is what merging it would give.
                peers = [event.data for event in tick.events if event.source.int != own]
                if peers:
                    self.outbox.put(Frame(batch_frame(peers)))
            return
        self._push((_TICK, tick))

    def _push(self, item: tuple[int, object]) -> None:
        if self.closed:
            return
        outbox = self.outbox
        self._items.append(item)
        if outbox.busy:
            # Kept here, merged when the socket drains (the outbox asks through `refill`).
            outbox.refill = self._refill
            if not outbox.hold(_size(*item)):
                log.info("closing a /ws reader that fell too far behind")
            return
        for frame in self._drain():
            outbox.put(frame)

    def _refill(self) -> list[Frame]:
        self.outbox.refill = None
        return self._drain()

    @property
    def pending(self) -> int:
        return len(self._items)

    # -- closing ---------------------------------------------------------------------------------

    def _outbox_closed(self) -> None:
        """A close was requested, or the client went away mid-send: nothing more is queued."""
        self.closed = True
        self._items.clear()

    def close_soon(self, code: int, reason: str = "") -> None:
        """Stop accepting frames and close now: pending frames are dropped, the close goes first."""
        if self.closed:
            return
        self.closed = True
        self._items.clear()
        self.outbox.request_close(code, reason)

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket and wait for the close frame to go out."""
        self.close_soon(code, reason)
        await self._wait_sent()

    async def _wait_sent(self) -> None:
        try:
            await asyncio.wait_for(self.outbox.wait_finished(), CLOSE_WAIT_SECONDS)
        except TimeoutError:
            # A reader that stopped reading never lets the close frame out: give up on it.
            if self.on_abort is not None:
                self.on_abort()

    async def finish(self) -> None:
        """The socket handler is done: let a requested close go out."""
        self.closed = True
        self._items.clear()
        if self.outbox.closing:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self.outbox.wait_finished(), CLOSE_WAIT_SECONDS + 1)

    # -- turning items into frames ---------------------------------------------------------------

    def _drain(self) -> list[Frame]:
        """Everything pending, as the frames to send now."""
        items, self._items = self._items, []
        if len(items) == 1 and items[0][0] == _TICK:
            tick = items[0][1]
            assert isinstance(tick, Tick)
            if self.id.int not in tick.sources:
                # Kept up, and none of these events is ours: the shared frames as they are.
                if self.batch:
                    return [tick.shared_frame()]
                return [Frame(event.data) for event in tick.events]
        frames: list[Frame] = []
        merged = _Merge(self.id)
        for kind, payload in items:
            if kind == _REPLY:
                self._render(merged.take(), frames)
                assert isinstance(payload, str)
                frames.append(Frame(payload))
            elif kind == _EVENT:
                assert isinstance(payload, EncodedEvent)
                merged.add((payload,), skip_own=False)
            else:
                assert isinstance(payload, Tick)
                merged.add(payload.events, skip_own=True)
        self._render(merged.take(), frames)
        return frames

    def _render(self, events: list[str], frames: list[Frame]) -> None:
        if not events:
            return
        if self.batch:
            frames.append(Frame(batch_frame(events)))
        else:
            frames.extend(Frame(event) for event in events)


class _Merge:
    """Pending events in order, the latest cursor/selection/typing per source replacing earlier
    ones; an event that must arrive closes its source's window so order is kept."""

    __slots__ = ("events", "latest_at", "own")

    def __init__(self, own: uuid.UUID) -> None:
        self.own = own
        self.events: list[str | None] = []
        self.latest_at: dict[tuple[uuid.UUID, str], int] = {}

    def add(self, events: Iterable[EncodedEvent], *, skip_own: bool) -> None:
        for event in events:
            if skip_own and event.source == self.own:
                continue  # peers' events only: nobody hears their own back
            if event.kind:
                key = (event.source, event.kind)
                index = self.latest_at.get(key)
                if index is not None:
                    self.events[index] = event.data
                    continue
                self.latest_at[key] = len(self.events)
            elif self.latest_at:
                for latest in ("cursor_move", "selection_change", "typing"):
                    self.latest_at.pop((event.source, latest), None)
            self.events.append(event.data)

    def take(self) -> list[str]:
        events = [data for data in self.events if data is not None]
        self.events = []
        self.latest_at = {}
        return events
