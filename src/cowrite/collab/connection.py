"""One Yjs socket as a room peer, over the shared outbox (`realtime.outbox`).

The room fans a batch's frame out to hundreds of peers in one synchronous pass: the same
`Frame` to each, written straight to the transport. A peer whose socket cannot take it now
(its send suspended) keeps the room's updates instead, and once the socket drains it gets all of
them merged into one update: one catch-up (counted), never a frame twice, and never a frame
dropped. A peer further behind than the outbox's byte cap is closed (`SLOW_READER`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from pycrdt import merge_updates

from cowrite.collab import protocol
from cowrite.realtime.outbox import Frame, Outbox, SendCoroutine


class SocketPeer:
    __slots__ = (
        "_behind",
        "_on_catch_up",
        "awareness_ids",
        "can_write",
        "connection_id",
        "login_id",
        "outbox",
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
        queue_bytes: int,
        write_ready: Callable[[bytes], bool] | None = None,
        on_catch_up: Callable[[], None] | None = None,
    ) -> None:
        self.connection_id = connection_id
        self.user_id: uuid.UUID | None = user_id
        self.login_id = login_id
        self.can_write = can_write
        self.awareness_ids: set[int] = set()
        self.outbox = Outbox(
            lambda frame: send_bytes(frame.payload),  # type: ignore[arg-type]  # always bytes
            close,
            write_ready=write_ready,
            max_bytes=queue_bytes,
        )
        self._behind: list[bytes] | None = None  # room updates kept while the socket is busy
        self._on_catch_up = on_catch_up

    # -- what the room calls ------------------------------------------------------------------

    def send(self, frame: bytes) -> None:
        """A frame for this peer alone (a reply, a sender's own merge)."""
        self.outbox.put(Frame(frame))

    def send_frame(self, frame: Frame, update: bytes | None = None) -> None:
        """A frame the room made once for every peer; `update` is what it carries, when it is a
        document update (kept and merged while the socket is busy)."""
        outbox = self.outbox
        if update is None or not outbox.busy:
            outbox.put(frame)
            return
        if outbox.closing:
            return
        behind = self._behind
        if behind is None:
            behind = self._behind = []
            outbox.refill = self._catch_up
        behind.append(update)
        outbox.hold(len(update))

    def _catch_up(self) -> list[Frame]:
        behind, self._behind = self._behind, None
        self.outbox.refill = None
        if not behind:
            return []
        if len(behind) == 1:
            return [Frame(protocol.sync_update(behind[0]))]
        if self._on_catch_up is not None:
            self._on_catch_up()
        return [Frame(protocol.sync_update(merge_updates(*behind)))]

    def request_close(self, code: int, reason: str) -> None:
        self._behind = None
        self.outbox.request_close(code, reason)

    # -- what the socket handler reads ---------------------------------------------------------

    @property
    def closing(self) -> bool:
        return self.outbox.closing

    @property
    def close_code(self) -> int | None:
        return self.outbox.close_code

    @property
    def finished(self) -> bool:
        return self.outbox.finished

    @property
    def on_close(self) -> Callable[[], None] | None:
        return self.outbox.on_close

    @on_close.setter
    def on_close(self, callback: Callable[[], None] | None) -> None:
        self.outbox.on_close = callback

    async def wait_finished(self) -> None:
        await self.outbox.wait_finished()


class SharePeer(SocketPeer):
    """An anonymous reader who came in through a share link: never writes, and is closed the
    moment its link stops working."""

    __slots__ = ("share_id",)

    def __init__(self, *args: Any, share_id: uuid.UUID | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.share_id = share_id
