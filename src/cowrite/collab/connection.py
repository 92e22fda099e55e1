"""One Yjs socket as a room peer: frames go out at once, or queue (bounded) while it is slow.

The room fans a tick's frame out to hundreds of peers in one synchronous pass. A socket send
normally completes without suspending (it only waits when the transport's buffer is full), so
a peer drives the send coroutine itself, in place, and only a send that does suspend is carried
on by future callbacks, while later frames queue behind it. That saves a task switch per
recipient per tick; a peer whose queue passes `queue_limit` frames or `queue_bytes` bytes is
closed (1008, the slow-reader policy of both sockets), never waited for.
The send coroutine must only await futures (true of ASGI servers' send); it runs outside a task.

Thousands of these sit idle at once, so a peer holds no asyncio primitives while quiet: the
outgoing queue is made on first use, the owner learns of a requested close through a plain
callback, and a future for "nothing more will be sent" exists only while someone awaits it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from cowrite.realtime.codes import CloseCode

SendCoroutine = Coroutine[Any, Any, None]


class SocketPeer:
    __slots__ = (
        "_busy",
        "_close",
        "_close_sent",
        "_finished",
        "_frames",
        "_queue_bytes",
        "_queue_limit",
        "_queued",
        "_send_bytes",
        "_waiter",
        "awareness_ids",
        "can_write",
        "close_code",
        "close_reason",
        "connection_id",
        "login_id",
        "on_close",
        "user_id",
    )

    def __init__(
        self,
        send_bytes: Callable[[bytes], SendCoroutine],
        close: Callable[[int, str], SendCoroutine],
        *,
        connection_id: uuid.UUID,
        user_id: uuid.UUID | None,
        login_id: uuid.UUID | None,
        can_write: bool,
        queue_limit: int,
        queue_bytes: int,
    ) -> None:
        self.connection_id = connection_id
        self.user_id: uuid.UUID | None = user_id
        self.login_id = login_id
        self.can_write = can_write
        self.awareness_ids: set[int] = set()
        self.close_code: int | None = None
        self.close_reason = ""
        self.on_close: Callable[[], None] | None = None  # told once when a close is requested
        self._finished = False  # nothing more will be sent
        self._waiter: asyncio.Future[None] | None = None
        self._send_bytes = send_bytes
        self._close = close
        self._frames: deque[bytes] | None = None
        self._busy = False  # a send is suspended; new frames queue behind it
        self._close_sent = False
        self._queue_limit = queue_limit
        self._queue_bytes = queue_bytes
        self._queued = 0  # bytes waiting in `_frames`

    def send(self, frame: bytes) -> None:
        if self.close_code is not None:
            return
        if self._busy:
            if self._frames is None:
                self._frames = deque()
            queued = self._queued + len(frame)
            if len(self._frames) >= self._queue_limit or queued > self._queue_bytes:
                self.request_close(CloseCode.POLICY, "client is too slow")
                return
            self._frames.append(frame)
            self._queued = queued
            return
        self._pump(self._send_bytes(frame))

    @property
    def closing(self) -> bool:
        """A close was requested (by the room, the reader, or a lost connection)."""
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
        if self.close_code is not None:
            return
        self.close_code = code
        self.close_reason = reason
        self._frames = None
        self._queued = 0
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
                if not self._frames:
                    self._busy = False
                    self._frames = None
                    self._queued = 0
                    return
                frame = self._frames.popleft()
                self._queued -= len(frame)
                coro = self._send_bytes(frame)
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
        self._close_sent = True
        if self.close_code is None:
            self.close_code = CloseCode.ABNORMAL
            self._closed()
        self._finish()


class SharePeer(SocketPeer):
    """An anonymous reader who came in through a share link: never writes, and is closed the
    moment its link stops working."""

    __slots__ = ("share_id",)

    def __init__(self, *args: Any, share_id: uuid.UUID | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.share_id = share_id
