"""The one send loop of both sockets (`/ws` and `/ws/yjs`): frames go out in place, wait
(bounded in bytes) behind a send that suspended, and a reader that falls too far behind is
closed with `CloseCode.SLOW_READER`; the sender never waits for a reader.

A frame is made once per broadcast (`Frame`: its payload and, on first use, its whole wire
form) and the same object goes to every member. Under the lean transport the wire bytes are
written straight to the socket's transport (`write_ready`): no ASGI message, coroutine or other
object per recipient. Otherwise (another transport, or a transport whose buffer is full) the
frame goes through the ASGI send, whose coroutine the outbox drives itself, in place, and only a
send that suspends is carried on by a future callback while later frames queue behind it.

An owner may keep what comes while the outbox is busy in its own compact form (the co-editing
peer merges updates, presence merges moves) and hand it over when the outbox asks (`refill`):
a reader that fell behind then gets one catch-up instead of every frame it missed. What the owner
holds counts against the same byte cap (`hold`).

Thousands of outboxes sit idle at once, so one holds no asyncio primitive while quiet: the
queue is made on first use, and a future for "nothing more will be sent" exists only while
someone awaits it. The send coroutines must only await futures (true of ASGI servers' send):
they run outside any task.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from cowrite.leanws.frames import binary_frame, text_frame
from cowrite.realtime.codes import CloseCode

SendCoroutine = Coroutine[Any, Any, None]
SEND_QUEUE_MAX_BYTES = 8 * 1024 * 1024  # the default cap on what a reader may fall behind by


class Frame:
    """One outgoing message, made once for any number of recipients."""

    __slots__ = ("_wire", "payload")

    def __init__(self, payload: bytes | str) -> None:
        self.payload = payload
        self._wire: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.payload)

    def wire(self) -> bytes:
        """The whole WebSocket frame (header and payload), made on first use."""
        wire = self._wire
        if wire is None:
            payload = self.payload
            wire = self._wire = (
                text_frame(payload) if isinstance(payload, str) else binary_frame(payload)
            )
        return wire


class Outbox:
    __slots__ = (
        "_busy",
        "_close",
        "_close_sent",
        "_finished",
        "_frames",
        "_held",
        "_queued",
        "_send",
        "_waiter",
        "_write_ready",
        "close_code",
        "close_reason",
        "max_bytes",
        "on_close",
        "refill",
    )

    def __init__(
        self,
        send: Callable[[Frame], SendCoroutine],
        close: Callable[[int, str], SendCoroutine],
        *,
        write_ready: Callable[[bytes], bool] | None = None,
        max_bytes: int = SEND_QUEUE_MAX_BYTES,
    ) -> None:
        self._send = send
        self._close = close
        self._write_ready = write_ready
        self.max_bytes = max_bytes
        self.close_code: int | None = None
        self.close_reason = ""
        # Told once when a close is requested (by the owner, a slow read, or a lost client).
        self.on_close: Callable[[], None] | None = None
        # What the owner kept while busy, as frames to send next (asked when the queue is empty).
        self.refill: Callable[[], list[Frame]] | None = None
        self._frames: deque[Frame] | None = None
        self._queued = 0  # bytes in `_frames`
        self._held = 0  # bytes the owner holds for `refill`
        self._busy = False  # a send is suspended; new frames queue behind it
        self._close_sent = False
        self._finished = False  # nothing more will be sent
        self._waiter: asyncio.Future[None] | None = None

    # -- sending ----------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A send is suspended: what comes now waits (in the queue, or with the owner)."""
        return self._busy

    def put(self, frame: Frame) -> None:
        """Send `frame` now, or queue it behind a suspended send; never blocks."""
        if self.close_code is not None:
            return
        if self._busy:
            queued = self._queued + len(frame.payload)
            if queued + self._held > self.max_bytes:
                self.slow_reader()
                return
            if self._frames is None:
                self._frames = deque()
            self._frames.append(frame)
            self._queued = queued
            return
        write = self._write_ready
        if write is not None and write(frame.wire()):
            return
        self._pump(self._send(frame))

    def hold(self, size: int) -> bool:
        """The owner keeps `size` more bytes for `refill`; False, and the reader is closed,
        when what waits passes the cap."""
        self._held += size
        if self._held + self._queued > self.max_bytes:
            self.slow_reader()
            return False
        return True

    def slow_reader(self) -> None:
        self.request_close(CloseCode.SLOW_READER, "client is too slow")

    # -- closing ----------------------------------------------------------------------------------

    @property
    def closing(self) -> bool:
        """A close was requested (by the owner, a slow read, or a lost connection)."""
        return self.close_code is not None

    @property
    def finished(self) -> bool:
        return self._finished

    async def wait_finished(self) -> None:
        """Until nothing more will be sent (the close frame is out, or the client is gone)."""
        if self._finished:
            return
        if self._waiter is None:
            self._waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._waiter)

    def request_close(self, code: int, reason: str) -> None:
        """Close soon with this code: what is queued is dropped, the close goes next."""
        if self.close_code is not None:
            return
        self.close_code = code
        self.close_reason = reason
        self._frames = None
        self._queued = 0
        self._held = 0
        self._closed()
        if not self._busy:
            self._send_close()

    def _closed(self) -> None:
        callback, self.on_close = self.on_close, None
        if callback is not None:
            callback()

    def _finish(self) -> None:
        self._finished = True
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _send_close(self) -> None:
        if self._close_sent or self.close_code is None:
            return
        self._close_sent = True
        if self.close_code == CloseCode.ABNORMAL:
            self._finish()
            return
        self._pump(self._close(self.close_code, self.close_reason))

    # -- the loop ---------------------------------------------------------------------------------

    def _next(self) -> Frame | None:
        """The next frame to send after a send completed: the queue's, else the owner's."""
        frames = self._frames
        if not frames and self.refill is not None:
            self._held = 0
            more = self.refill()
            if more:
                frames = self._frames = deque(more)
                self._queued = sum(len(frame.payload) for frame in more)
        if not frames:
            self._frames = None
            self._queued = 0
            return None
        frame = frames.popleft()
        self._queued -= len(frame.payload)
        return frame

    def _pump(self, coro: SendCoroutine) -> None:
        """Run sends in place until one suspends (then resume it when its future is done)."""
        while True:
            try:
                awaited = coro.send(None)
            except StopIteration:
                if self._close_sent:
                    self._busy = False
                    self._finish()
                    return
                if self.close_code is not None:
                    self._busy = False
                    self._send_close()
                    return
                frame = self._next()
                if frame is None:
                    self._busy = False
                    return
                write = self._write_ready
                while write is not None and write(frame.wire()):
                    frame = self._next()
                    if frame is None:
                        self._busy = False
                        return
                coro = self._send(frame)
                continue
            except Exception:
                coro.close()
                self._busy = False
                self._lost()
                return
            self._busy = True
            if awaited is None:  # a bare yield: try again on the next loop turn
                asyncio.get_running_loop().call_soon(self._pump, coro)
            else:
                awaited.add_done_callback(lambda _future, coro=coro: self._pump(coro))
            return

    def _lost(self) -> None:
        """The client went away mid-send: nothing more can be said to it."""
        self._frames = None
        self._queued = 0
        self._held = 0
        self._close_sent = True
        if self.close_code is None:
            self.close_code = CloseCode.ABNORMAL
            self._closed()
        self._finish()
