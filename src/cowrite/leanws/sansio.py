"""uvicorn's `websockets-sansio` transport with the lean transport's limits: a peer that does
not read our frames is not read either, pongs stop at the write buffer cap, and a message takes
at most `max_fragments` frames. Everything else is uvicorn's."""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame

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

    def handle_ping(self) -> None:
        if self.transport.get_write_buffer_size() > LIMITS.write_buffer_max:
            self.logger.info("WebSocket failed: the peer does not read")
            self.queue.put_nowait({"type": "websocket.disconnect", "code": CLOSE_POLICY})
            self.close_sent = True
            self.transport.abort()
            return
        super().handle_ping()

    def handle_cont(self, event: Frame) -> None:
        if len(self.frames) >= LIMITS.max_fragments and not event.fin:
            self.frames = []
            self.conn.fail(CLOSE_POLICY, "too many fragments")
            self.handle_parser_exception()
            return
        super().handle_cont(event)
