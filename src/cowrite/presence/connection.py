"""One `/ws` connection: who it is, and its bounded outbox, sent in place or by a writer task.

The room hands each member one shared `Tick` (the events of a flush, each encoded once) per
flush, so fan-out costs one append per member, not one per member and event. A socket send
normally completes without suspending (it waits only while the transport's buffer is full), so
the connection drives the send coroutine itself, in place, with no task per frame; a send that
does suspend is carried on by a writer task, and what comes meanwhile waits in the outbox. The
writer turns what is pending into frames: a reader that keeps up gets the tick's shared frame as
is; one that fell behind gets everything pending merged, keeping only the latest cursor,
selection and typing event of each connection — it skips intermediate positions but never a
join, leave or editing change. A reader so far behind that its outbox overflows is closed; the
room never waits. The socket's send must only await futures (true of ASGI servers' send): its
first steps run outside any task.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from cowrite.presence.protocol import batch_frame
from cowrite.realtime.codes import CloseCode
from cowrite.realtime.direct import text_frame

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

    __slots__ = ("_frame", "_wire", "events", "sources")

    def __init__(self, events: list[EncodedEvent]) -> None:
        self.events = events
        # By the ids' integers: a UUID hashes in Python, an int in C (checked once per member).
        self.sources = {event.source.int for event in events}
        self._frame: str | None = None
        self._wire: bytes | None = None

    def shared_batch(self) -> str:
        """The batch frame of all events, built once for every member that sent none of them."""
        if self._frame is None:
            self._frame = batch_frame([event.data for event in self.events])
        return self._frame

    def shared_wire(self) -> bytes:
        """`shared_batch` as a whole WebSocket frame, for transports that take ready frames."""
        if self._wire is None:
            self._wire = text_frame(self.shared_batch())
        return self._wire


_REPLY = 0
_EVENT = 1
_TICK = 2


class Connection:
    __slots__ = (
        "_close_code",
        "_close_reason",
        "_items",
        "_queue_max",
        "_write_ready",
        "_writer",
        "batch",
        "closed",
        "device_type",
        "full_name",
        "id",
        "id_text",
        "last_activity",
        "login_id",
        "on_abort",
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
        queue_max: int,
        ready_frame_writer: Callable[[bytes], bool] | None = None,
    ) -> None:
        self.socket = socket
        # Writes a whole frame in place when the transport can take it now (see leanws).
        self._write_ready = ready_frame_writer
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
        self._queue_max = queue_max
        self._items: list[tuple[int, object]] = []
        # The writer runs while there is something to send and ends when the outbox is empty:
        # an idle connection holds no task.
        self._writer: asyncio.Task[None] | None = None
        self._close_code: int | None = None
        self._close_reason = ""
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
        if self.batch and self._writer is None and not self._items and not self.closed:
            # The common cases, kept short: nothing pending, so this tick alone is sent.
            own = self.id.int
            if own not in tick.sources:  # none of the events is ours: the shared frame
                wire = tick.shared_wire() if self._write_ready is not None else None
                self._send_frame(tick.shared_batch(), wire=wire)
            else:
                # The room already kept only the latest move of each source, so the tick
                # without our own events is what merging it would give.
                peers = [event.data for event in tick.events if event.source.int != own]
                if peers:
                    self._send_frame(batch_frame(peers))
            return
        self._push((_TICK, tick))

    def _push(self, item: tuple[int, object]) -> None:
        if self.closed:
            return
        self._items.append(item)
        if self._writer is not None:
            if len(self._items) > self._queue_max:
                log.info("closing a /ws reader that fell too far behind")
                self.close_soon(CloseCode.POLICY, "too slow")
            return
        self._send_in_place()

    def _send_in_place(self) -> None:
        """Send what is pending now, without a task; a send that suspends goes on in a writer."""
        frames = self._drain()
        for index, frame in enumerate(frames):
            if not self._send_frame(frame, frames, index + 1):
                return

    def _send_frame(
        self, frame: str, frames: Sequence[str] = (), after: int = 0, wire: bytes | None = None
    ) -> bool:
        """Start sending one frame in place; True when it went out without suspending (else a
        writer carries it on, then `frames[after:]`). `wire` is the frame already made whole,
        when a tick shares it."""
        write = self._write_ready
        if write is not None and write(wire if wire is not None else text_frame(frame)):
            return True
        send = self.socket.send_text(frame)
        try:
            awaited = send.send(None)
        except StopIteration:
            return True
        except Exception as exc:  # the peer went away; the reader notices too
            log.debug("ws send failed: %r", exc)
            self.closed = True
            return False
        suspended = _Suspended(send, awaited)
        self._writer = asyncio.create_task(self._write_loop(suspended, frames[after:]))
        return False

    def _ensure_writer(self) -> None:
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop())

    @property
    def pending(self) -> int:
        return len(self._items)

    # -- the writer ------------------------------------------------------------------------------

    def close_soon(self, code: int, reason: str = "") -> None:
        """Stop accepting frames and close now: pending frames are dropped, the close goes first."""
        if self.closed:
            return
        self.closed = True
        self._close_code = code
        self._close_reason = reason
        self._items.clear()
        self._ensure_writer()

    async def _write_loop(
        self, suspended: _Suspended | None = None, rest: Sequence[str] = ()
    ) -> None:
        try:
            if suspended is not None:
                await suspended.finish()
                for frame in rest:
                    if self.closed:
                        break
                    await self.socket.send_text(frame)
            while self._items and not self.closed:
                for frame in self._drain():
                    await self.socket.send_text(frame)
                    if self.closed:
                        break
        except Exception as exc:  # the peer went away mid-send; the reader notices too
            log.debug("ws writer stopped: %r", exc)
            self.closed = True
        if self._close_code is None:
            # Nothing awaited since the outbox was seen empty: a push now starts a new writer.
            self._writer = None
            return
        try:
            # A reader that stopped reading never lets the close frame out: give up on it.
            await asyncio.wait_for(
                self.socket.close(self._close_code, self._close_reason), CLOSE_WAIT_SECONDS
            )
        except Exception:
            if self.on_abort is not None:
                self.on_abort()

    def _drain(self) -> list[str]:
        """Everything pending, as the frames to send now."""
        items, self._items = self._items, []
        if len(items) == 1 and items[0][0] == _TICK:
            tick = items[0][1]
            assert isinstance(tick, Tick)
            if self.id.int not in tick.sources:
                # Kept up, and none of these events is ours: the shared frames as they are.
                if self.batch:
                    return [tick.shared_batch()]
                return [event.data for event in tick.events]
        frames: list[str] = []
        merged = _Merge(self.id)
        for kind, payload in items:
            if kind == _REPLY:
                self._render(merged.take(), frames)
                assert isinstance(payload, str)
                frames.append(payload)
            elif kind == _EVENT:
                assert isinstance(payload, EncodedEvent)
                merged.add((payload,), skip_own=False)
            else:
                assert isinstance(payload, Tick)
                merged.add(payload.events, skip_own=True)
        self._render(merged.take(), frames)
        return frames

    def _render(self, events: list[str], frames: list[str]) -> None:
        if not events:
            return
        if self.batch:
            frames.append(batch_frame(events))
        else:
            frames.extend(events)

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Close the socket and wait for the writer to finish."""
        self.close_soon(code, reason)
        if self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._writer, timeout=CLOSE_WAIT_SECONDS + 1)

    async def finish(self) -> None:
        """The socket handler is done: let a requested close go out, else stop the writer."""
        if self._close_code is not None and self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(self._writer), CLOSE_WAIT_SECONDS + 1)
        self.closed = True
        if self._writer is not None and not self._writer.done():
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._writer


SendCoroutine = Coroutine[Any, Any, None]


class _Suspended:
    """A send coroutine that suspended outside a task, to be finished inside one."""

    __slots__ = ("awaited", "coroutine")

    def __init__(self, coroutine: SendCoroutine, awaited: Any) -> None:
        self.coroutine = coroutine
        self.awaited = awaited

    async def finish(self) -> None:
        coroutine, awaited = self.coroutine, self.awaited
        while True:
            try:
                if awaited is None:  # a bare yield: go round the loop once
                    await asyncio.sleep(0)
                else:
                    # Not `await awaited`: the coroutine already yielded it (it counts as
                    # awaited once); wait until it is done, then let the coroutine read it.
                    await asyncio.wait((awaited,))
            except BaseException:
                coroutine.close()  # cancelled (the writer is being stopped): unwind the send
                raise
            try:
                awaited = coroutine.send(None)
            except StopIteration:
                return


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
