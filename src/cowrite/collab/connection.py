"""One Yjs socket as a room peer: a bounded frame queue drained by its own writer task."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable

SLOW_CLIENT = 1013  # "try again later": the client could not keep up with the room


class SocketPeer:
    """Frames queue here without blocking the room; `run_writer` sends them in order.

    A peer whose queue passes `queue_limit` frames is closed rather than allowed to grow
    without bound or slow the others.
    """

    def __init__(
        self,
        send_bytes: Callable[[bytes], Awaitable[None]],
        close: Callable[[int, str], Awaitable[None]],
        *,
        user_id: uuid.UUID,
        login_id: uuid.UUID | None,
        can_write: bool,
        queue_limit: int,
    ) -> None:
        self.connection_id = uuid.uuid4()
        self.user_id: uuid.UUID | None = user_id
        self.login_id = login_id
        self.can_write = can_write
        self.awareness_ids: set[int] = set()
        self.close_code: int | None = None
        self.close_reason = ""
        self.closed = asyncio.Event()
        self._send_bytes = send_bytes
        self._close = close
        self._frames: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._queue_limit = queue_limit

    def send(self, frame: bytes) -> None:
        if self.close_code is not None:
            return
        if len(self._frames) >= self._queue_limit:
            self.request_close(SLOW_CLIENT, "client is too slow")
            return
        self._frames.append(frame)
        self._wake.set()

    def request_close(self, code: int, reason: str) -> None:
        if self.close_code is not None:
            return
        self.close_code = code
        self.close_reason = reason
        self._frames.clear()
        self._wake.set()
        self.closed.set()

    async def run_writer(self) -> None:
        """Send queued frames until a close is requested, then send the close frame."""
        frames = self._frames
        send = self._send_bytes
        try:
            while self.close_code is None:
                while frames:
                    await send(frames.popleft())
                if self.close_code is not None:
                    break
                self._wake.clear()
                await self._wake.wait()
        except Exception:  # the client went away mid-send: nothing left to say to it
            self.request_close(1006, "connection lost")
            return
        with contextlib.suppress(Exception):
            await self._close(self.close_code, self.close_reason)


class RateLimit:
    """Token bucket over messages: `burst` at once, `rate` per second after."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
