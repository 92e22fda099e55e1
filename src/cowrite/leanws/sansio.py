"""uvicorn's `websockets-sansio` transport with the lean transport's limits: a peer that does
not read our frames is not read either, pongs stop at the write buffer cap, and a message takes
at most `max_fragments` frames. Everything else is uvicorn's."""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame

from cowrite.kit.ratelimit import TokenBucket
from cowrite.leanws.frames import CLOSE_POLICY
from cowrite.leanws.server import LIMITS


class GuardedSansIOProtocol(WebSocketsSansIOProtocol):
    """`ws="cowrite.leanws.sansio:GuardedSansIOProtocol"`."""

    def pause_writing(self) -> None:
        super().pause_writing()
        if not self.transport.is_closing():
            self.transport.pause_reading()

    def resume_writing(self) -> None:
        super().resume_writing()
        if not self.read_paused and not self.transport.is_closing():
            self.transport.resume_reading()

    _controls: TokenBucket | None = None

    def _control_allowed(self) -> bool:
        if self._controls is None:
            self._controls = TokenBucket(LIMITS.control_rate, LIMITS.control_burst)
        return self._controls.take()

    def handle_pong(self, event: Frame) -> None:
        if self.close_sent:
            return
        if not self._control_allowed():
            self._fail_policy("too many control frames")
            return
        super().handle_pong(event)

    def _fail_policy(self, reason: str) -> None:
        """Close 1008, end our side, read nothing more, and abort once the close timeout has
        passed: closing at once with unread bytes would reset the connection and lose the
        close frame on its way to the peer."""
        if self.close_sent:
            return
        self.frames = []
        self.conn.fail(CLOSE_POLICY, reason)
        self.queue.put_nowait({"type": "websocket.disconnect", "code": CLOSE_POLICY})
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self.read_paused = True
        self.transport.pause_reading()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        # Held as uvicorn's close timer: the app's end then leaves the connection to it.
        self.close_timer = self.loop.call_later(LIMITS.close_timeout, self.transport.abort)

    def handle_ping(self) -> None:
        if self.close_sent:
            return
        if not self._control_allowed():
            self._fail_policy("too many control frames")
            return
        if self.transport.get_write_buffer_size() > LIMITS.write_buffer_max:
            self.logger.info("WebSocket failed: the peer does not read")
            self.queue.put_nowait({"type": "websocket.disconnect", "code": CLOSE_POLICY})
            self.close_sent = True
            self.transport.abort()
            return
        super().handle_ping()

    def handle_cont(self, event: Frame) -> None:
        if self.close_sent:
            return
        if len(self.frames) >= LIMITS.max_fragments and not event.fin:
            self._fail_policy("too many fragments")
            return
        super().handle_cont(event)
