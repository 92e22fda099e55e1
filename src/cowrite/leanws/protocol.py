"""A lean WebSocket transport for uvicorn (`ws="cowrite.leanws:LeanWebSocketProtocol"`).

Thousands of sockets sit idle for hours, so an idle one holds only this slotted object, its
scope and its ASGI task: no queue, event or parser object per connection. Incoming messages go
to a deque made on demand, `receive` hands the app one future only while it waits, a partial
frame is the only thing buffered, sends write straight to the transport and wait only while it
is paused, and one server-wide timer sends the keepalive pings. No per-message deflate.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.server import ServerState

from cowrite.kit.ratelimit import TokenBucket
from cowrite.leanws import frames
from cowrite.leanws.frames import (
    CLOSE_ABNORMAL,
    CLOSE_INTERNAL_ERROR,
    CLOSE_INVALID_DATA,
    CLOSE_NORMAL,
    CLOSE_POLICY,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_SERVICE_RESTART,
    CLOSE_TOO_BIG,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    HandshakeError,
    ProtocolViolation,
)
from cowrite.leanws.server import LIMITS, Shared, shared_for

Message = dict[str, Any]

_HANDSHAKE = 0  # waiting for the upgrade request
_CONNECTING = 1  # the app runs but has not accepted yet
_RESPONDING = 2  # the app answers with a plain HTTP response instead
_OPEN = 3
_CLOSING = 4  # our close frame is out; waiting for the peer's
_CLOSED = 5  # nothing more is written

_SMALL_FRAME = 1024  # below this a frame goes out as one joined buffer


class LeanWebSocketProtocol(asyncio.Protocol):
    """One server-side WebSocket connection: RFC 6455 framing and the ASGI websocket interface."""

    __slots__ = (
        "_buffer",
        "_close_timer",
        "_controls",
        "_drain",
        "_events",
        "_final",
        "_fragment_count",
        "_fragment_opcode",
        "_fragments",
        "_max_size",
        "_need",
        "_on_text",
        "_paused",
        "_pong",
        "_read_paused",
        "_response",
        "_shared",
        "_state",
        "_unanswered",
        "_upgrade",
        "_waiter",
        "scope",
        "transport",
    )

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._shared: Shared = shared_for(config, server_state, app_state, _loop)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # set on connect
        self.scope: Message | None = None
        self._state = _HANDSHAKE
        self._buffer: bytearray | None = None  # bytes of a frame (or head) not complete yet
        self._need = 0  # how many buffered bytes the next step needs
        self._events: deque[Message] | None = None
        self._waiter: asyncio.Future[Message] | None = None
        self._final: Message | None = None  # the disconnect event, once given to the app
        self._fragments: bytearray | None = None  # a fragmented message so far, in one buffer
        self._fragment_opcode = OP_BINARY
        self._fragment_count = 0
        self._max_size = 0  # this socket's own message limit (0: the server's)
        self._paused = False
        self._pong: bytes | None = None  # the payload of the last ping of this read
        self._controls: TokenBucket | None = None  # made on the peer's first ping or pong
        self._drain: list[asyncio.Future[None]] | None = None
        self._read_paused = False
        self._close_timer: asyncio.TimerHandle | None = None
        self._upgrade: frames.UpgradeRequest | None = None
        self._response: list[Any] | None = None  # [status, headers, body parts] of an HTTP answer
        self._unanswered = 0  # keepalive sweeps since our unanswered ping
        self._on_text: Callable[[str], bool] | None = None  # see `offer_texts`

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport
        self._shared.connections.add(self)  # type: ignore[arg-type]  # uvicorn's set of protocols

    def connection_lost(self, exc: Exception | None) -> None:
        self._shared.connections.discard(self)
        self._shared.unwatch(self)
        self._state = _CLOSED
        self._cancel_close_timer()
        self._fragments = None
        self._buffer = None
        self._give_disconnect(CLOSE_ABNORMAL, "")
        self._paused = False
        self._wake_senders()
        if exc is None:
            self.transport.close()

    def eof_received(self) -> bool | None:
        return None  # let the transport close

    def pause_writing(self) -> None:
        # A peer that does not read our frames is not read either (its pings would pile up
        # pongs); the write buffer is checked against its cap while paused.
        self._paused = True
        if self._state == _OPEN:
            self._pause_reading()

    def resume_writing(self) -> None:
        self._paused = False
        self._wake_senders()
        if not self._events and self._state in (_OPEN, _CLOSING):
            self._resume_reading()

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        if buffer is not None:
            buffer += data
            if len(buffer) < self._need or self._state in (_CONNECTING, _RESPONDING):
                return
            data = bytes(buffer)
            self._buffer = None
            self._need = 0
        state = self._state
        if state == _HANDSHAKE:
            self._on_head(data)
        elif state in (_CONNECTING, _RESPONDING):
            # Frames sent before the accept wait for it, and the client waits with them.
            self._keep(data, 0)
            self._pause_reading()
        elif state != _CLOSED:
            self._parse(data)
            if self._pong is not None:
                self._answer_ping()

    def shutdown(self) -> None:
        """The server stops: close what is open with 1012 (the app says 1001 before this)."""
        state = self._state
        if state == _CLOSING:
            self._cancel_close_timer()
        elif state == _OPEN:
            self._give_disconnect(CLOSE_SERVICE_RESTART, "")
            self._write_frame(OP_CLOSE, frames.close_payload(CLOSE_SERVICE_RESTART, ""))
        elif state in (_HANDSHAKE, _CONNECTING):
            # Not a failure: the client may try again, here or at another process.
            self._write_error(HTTPStatus.SERVICE_UNAVAILABLE)
        self._state = _CLOSED
        self._hang_up()

    # -- the opening handshake -------------------------------------------------------------------

    def _on_head(self, data: bytes) -> None:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            if len(data) > LIMITS.max_head_bytes:
                self._refuse(
                    HandshakeError(
                        HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head too long"
                    )
                )
                return
            self._need = len(data) + 1
            self._keep(data, 0)
            return
        try:
            upgrade = frames.parse_upgrade(data[:end])
        except HandshakeError as exc:
            self._refuse(exc)
            return
        if end + 4 < len(data):
            self._keep(data, end + 4)
            self._pause_reading()
        self._upgrade = upgrade
        self._state = _CONNECTING
        self.scope = self._shared.scope_for(self.transport, upgrade)
        self._give({"type": "websocket.connect"})
        self._shared.start_app(self)

    def _refuse(self, error: HandshakeError) -> None:
        self._shared.logger.info("refused WebSocket upgrade: %s", error.message)
        body = f"Failed to open a WebSocket connection: {error.message}.\n".encode()
        self.transport.write(frames.http_response(error.status, list(error.headers), body))
        self._state = _CLOSED
        self._hang_up()

    def _write_error(self, status: int) -> None:
        body = HTTPStatus(status).phrase.encode()
        self.transport.write(frames.http_response(status, self._shared.default_headers(), body))

    def _accept(self, message: Message) -> None:
        upgrade = self._upgrade
        assert upgrade is not None
        response = frames.switching_response(
            upgrade.accept,
            message.get("subprotocol"),
            [*self._shared.default_headers(), *(message.get("headers") or ())],
        )
        self._upgrade = None
        self._state = _OPEN
        self.transport.write(response)
        self._shared.log_handshake(self, "[accepted]")
        self._shared.watch(self)
        buffered, self._buffer = self._buffer, None
        self._need = 0
        if self._read_paused and not self._events and not self._paused:
            self._resume_reading()
        if buffered:
            self._parse(bytes(buffered))
            if self._pong is not None:
                self._answer_ping()

    def _respond_start(self, message: Message) -> None:
        status = message["status"]
        if not 100 <= status < 600:
            raise RuntimeError(f"invalid HTTP status {status}")
        headers = list(message.get("headers") or ())
        if not all(frames.safe_header(name, value) for name, value in headers):
            raise RuntimeError("invalid response header")
        self._upgrade = None
        self._state = _RESPONDING
        self._response = [status, headers, []]

    def _respond_body(self, message: Message) -> None:
        response = self._response
        assert response is not None
        response[2].append(message.get("body", b""))
        if message.get("more_body", False):
            return
        status, headers, parts = response
        self._response = None
        self._give_disconnect(CLOSE_ABNORMAL, "")
        self.transport.write(frames.http_response(status, headers, b"".join(parts)))
        self._shared.log_handshake(self, str(status))
        self._state = _CLOSED
        self._hang_up()

    # -- incoming frames -------------------------------------------------------------------------

    def _keep(self, data: bytes, start: int) -> None:
        """Buffer the unparsed tail of `data` until `_need` bytes are there."""
        self._buffer = bytearray(memoryview(data)[start:])

    def _parse(self, data: bytes) -> None:
        """Handle every complete frame in `data`; keep a partial one for later."""
        end = len(data)
        pos = 0
        max_size = self._max_size or self._shared.max_size
        fragments = self._fragments
        so_far = len(fragments) if fragments is not None else 0
        while pos < end and self._state in (_OPEN, _CLOSING):
            if end - pos < 2:
                self._need = 2
                self._keep(data, pos)
                return
            first = data[pos]
            second = data[pos + 1]
            opcode = first & 0x0F
            length = second & 0x7F
            # The checks in the order `websockets` makes them, so both fail a stream alike:
            # opcode and mask, then size, then (once the payload is in) the remaining bits.
            try:
                _check_head(second, opcode)
                head = 6
                if length == 126:
                    head = 8
                elif length == 127:
                    head = 14
                if end - pos < head:
                    self._need = head
                    self._keep(data, pos)
                    return
                if length == 126:
                    length = int.from_bytes(data[pos + 2 : pos + 4], "big")
                elif length == 127:
                    length = int.from_bytes(data[pos + 2 : pos + 10], "big")
                if length > max_size - so_far:
                    raise ProtocolViolation(CLOSE_TOO_BIG, "message too big")
                if end - pos < head + length:
                    self._need = head + length
                    self._keep(data, pos)
                    return
                _check_bits(first, opcode, length)
            except ProtocolViolation as exc:
                self._fail(exc.code, exc.reason)
                return
            mask = data[pos + head - 4 : pos + head]
            payload = frames.unmask(data[pos + head : pos + head + length], mask)
            pos += head + length
            self._frame(bool(first & 0x80), opcode, payload)
            fragments = self._fragments
            so_far = len(fragments) if fragments is not None else 0

    def _frame(self, fin: bool, opcode: int, payload: bytes) -> None:
        if opcode in (OP_PING, OP_PONG) and not self._control_allowed():
            self._fail(CLOSE_POLICY, "too many control frames")
            return
        if opcode == OP_PING:
            # Answered once per read, for the latest ping only (RFC 6455 §5.5.3 allows it):
            # a flood of pings costs no more writes than one.
            if self._state == _OPEN:
                self._pong = payload
            return
        if opcode == OP_PONG:
            self._unanswered = 0
            return
        if opcode == OP_CLOSE:
            self._on_close_frame(payload)
            return
        if self._state != _OPEN:
            return  # the app already closed: late messages (and their fragments) are dropped
        if opcode == OP_CONTINUATION:
            fragments = self._fragments
            if fragments is None:
                self._fail(CLOSE_PROTOCOL_ERROR, "continuation without a message")
                return
            fragments += payload
            self._fragment_count += 1
            if not fin:
                if self._fragment_count >= self._shared.max_fragments:
                    self._fail(CLOSE_POLICY, "too many fragments")
                return
            payload = bytes(fragments)
            opcode = self._fragment_opcode
            self._fragments = None
        elif self._fragments is not None:
            self._fail(CLOSE_PROTOCOL_ERROR, "new message inside a fragmented one")
            return
        elif not fin:
            self._fragments = bytearray(payload)
            self._fragment_opcode = opcode
            self._fragment_count = 1
            return
        if opcode == OP_TEXT:
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                self._fail(CLOSE_INVALID_DATA, "text frame is not UTF-8")
                return
            handler = self._on_text
            if handler is not None and self._waiter is not None and handler(text):
                return
            self._give({"type": "websocket.receive", "text": text})
        else:
            self._give({"type": "websocket.receive", "bytes": payload})

    def _control_allowed(self) -> bool:
        """Spend a token for a ping or pong from the peer (browsers send none; a flood of
        them would cost the loop a parse each)."""
        bucket = self._controls
        if bucket is None:
            shared = self._shared
            bucket = self._controls = TokenBucket(shared.control_rate, shared.control_burst)
        return bucket.take()

    def _answer_ping(self) -> None:
        pong, self._pong = self._pong, None
        if pong is not None and self._state == _OPEN:
            self._write_frame(OP_PONG, pong)

    def _on_close_frame(self, payload: bytes) -> None:
        try:
            code, reason = frames.parse_close(payload)
        except ProtocolViolation as exc:
            self._fail(exc.code, exc.reason)
            return
        if self._state == _CLOSING:  # the answer to ours: the closing handshake is done
            self._cancel_close_timer()
        else:
            self._give_disconnect(code, reason)
            self._write_frame(OP_CLOSE, payload[:2])
        self._state = _CLOSED
        self._hang_up()

    def _fail(self, code: int, reason: str) -> None:
        """Fail the connection (RFC 6455 §7.1.7): say why, tell the app, hang up."""
        self._shared.logger.info("WebSocket failed with %d: %s", code, reason)
        if self._state == _OPEN:
            self._write_frame(OP_CLOSE, frames.close_payload(code, reason))
        self._give_disconnect(code, reason)
        self._cancel_close_timer()
        self._fragments = None
        self._state = _CLOSED
        self._linger()

    def _linger(self) -> None:
        """End our side after the close frame, read nothing more, and abort once
        `close_timeout` has passed: closing at once with unread bytes would reset the
        connection and lose the close frame on its way to the peer."""
        transport = self.transport
        if not transport.can_write_eof():
            self._hang_up()
            return
        transport.write_eof()
        self._buffer = None
        self._pause_reading()
        self._close_timer = self._shared.loop.call_later(
            self._shared.close_timeout, transport.abort
        )

    # -- ASGI ------------------------------------------------------------------------------------

    def _give(self, event: Message) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(event)
                return
        if self._events is None:
            self._events = deque()
        self._events.append(event)
        if len(self._events) >= self._shared.max_queue and self._state == _OPEN:
            self._pause_reading()  # the app is behind: let TCP hold the rest

    def _give_disconnect(self, code: int, reason: str) -> None:
        if self._final is None:
            self._final = {"type": "websocket.disconnect", "code": code, "reason": reason}
            self._give(self._final)

    def receive(self) -> Awaitable[Message]:
        """The next event; a plain method returning a future, so no coroutine waits per socket."""
        future: asyncio.Future[Message] = self._shared.loop.create_future()
        events = self._events
        if events:
            future.set_result(events.popleft())
            if not events:
                self._events = None
                if self._read_paused and not self._paused and self._state in (_OPEN, _CLOSING):
                    self._resume_reading()
        elif self._final is not None:  # the end repeats: a late receive never hangs
            future.set_result(self._final)
        else:
            self._waiter = future
        return future

    async def send(self, message: Message) -> None:
        kind = message["type"]
        # A close never waits for a peer that does not read: its timer ends the connection.
        if self._paused and kind != "websocket.close" and self._state in (_OPEN, _CLOSING):
            await self._wait_writable()
        state = self._state
        if state == _OPEN:
            if kind == "websocket.send":
                data = message.get("bytes")
                if data is not None:
                    self._write_frame(OP_BINARY, data)
                else:
                    text = message.get("text")
                    if text is None:
                        raise RuntimeError("websocket.send without bytes or text")
                    self._write_frame(OP_TEXT, text.encode())
            elif kind == "websocket.close":
                self._close(message.get("code", CLOSE_NORMAL), message.get("reason") or "")
            else:
                raise RuntimeError(f"unexpected ASGI message {kind!r} on an open WebSocket")
        elif state == _CONNECTING:
            if kind == "websocket.accept":
                self._accept(message)
            elif kind == "websocket.close":
                self._give_disconnect(CLOSE_ABNORMAL, "")
                self.transport.write(
                    frames.http_response(HTTPStatus.FORBIDDEN, self._shared.default_headers())
                )
                self._shared.log_handshake(self, "403")
                self._state = _CLOSED
                self._hang_up()
            elif kind == "websocket.http.response.start":
                self._respond_start(message)
            else:
                raise RuntimeError(f"unexpected ASGI message {kind!r} before the accept")
        elif state == _RESPONDING:
            if kind != "websocket.http.response.body":
                raise RuntimeError(f"unexpected ASGI message {kind!r} in an HTTP response")
            self._respond_body(message)
        elif kind == "websocket.close" and state in (_CLOSING, _CLOSED):
            return  # already closing or closed: nothing more to say
        else:
            raise ClientDisconnected()

    def offer_texts(self, handler: Callable[[str], bool] | None) -> None:
        """Offer each text message to `handler` as it is read, while the app waits in `receive`
        with nothing queued (so order is kept): True means handled, and the message is not
        queued; False, and it goes to `receive` as usual. This saves the task switch per
        message of the common messages a handler can take synchronously. The handler must not
        raise. None stops the offers."""
        self._on_text = handler

    def write_ready_frame(self, frame: bytes) -> bool:
        """Write a whole frame made by `frames.text_frame` or `binary_frame`, in place, with no
        ASGI message or coroutine: the fan-out path, where one frame goes to many sockets.
        False when the socket is not open or its buffer is full; the caller then sends through
        the ASGI `send`, which waits for the buffer to drain."""
        if self._state != _OPEN or self._paused:
            return False
        self.transport.write(frame)
        return True

    def limit_message_bytes(self, limit: int) -> None:
        """This socket's own message size limit (below the server's), from now on."""
        self._max_size = max(1, min(limit, self._shared.max_size))

    def _close(self, code: int, reason: str) -> None:
        self._give_disconnect(code, reason)
        self._write_frame(OP_CLOSE, frames.close_payload(code, reason))
        self._state = _CLOSING
        self._fragments = None
        if self._read_paused:
            self._resume_reading()  # keep reading: the peer's close frame must come through
        self._close_timer = self._shared.loop.call_later(
            self._shared.close_timeout, self.transport.abort
        )

    def _hang_up(self) -> None:
        """Close the transport; what it still holds unsent gets `close_timeout` to go out,
        then the connection is aborted (a peer that never reads cannot keep it)."""
        transport = self.transport
        if transport.get_write_buffer_size():
            self._cancel_close_timer()
            self._close_timer = self._shared.loop.call_later(
                self._shared.close_timeout, transport.abort
            )
        transport.close()

    async def _wait_writable(self) -> None:
        future: asyncio.Future[None] = self._shared.loop.create_future()
        if self._drain is None:
            self._drain = []
        self._drain.append(future)
        await future

    def _wake_senders(self) -> None:
        drain, self._drain = self._drain, None
        for future in drain or ():
            if not future.done():
                future.set_result(None)

    def app_done(self, task: asyncio.Task[None]) -> None:
        """The ASGI task ended: answer for an app that never accepted, and hang up."""
        shared = self._shared
        shared.tasks.discard(task)
        error: BaseException | None = None
        if not task.cancelled():
            error = task.exception()
            if error is None and task.result() is not None:
                shared.logger.error("ASGI callable should return None, but returned a value.")
        if error is not None and not isinstance(error, ClientDisconnected):
            self._shared.logger.error("Exception in ASGI application", exc_info=error)
        if self._state in (_CONNECTING, _HANDSHAKE):
            if error is None:
                self._shared.logger.error("ASGI callable returned without completing handshake.")
            self._write_error(HTTPStatus.INTERNAL_SERVER_ERROR)
            self._state = _CLOSED
        elif self._state == _OPEN:
            self._close(CLOSE_INTERNAL_ERROR if error is not None else CLOSE_NORMAL, "")
            self._cancel_close_timer()
            self._state = _CLOSED
        elif self._state == _RESPONDING:
            self._state = _CLOSED
        if self._close_timer is None:
            self._hang_up()

    # -- writing ---------------------------------------------------------------------------------

    def _write_frame(self, opcode: int, payload: bytes) -> None:
        header = frames.frame_header(opcode, len(payload))
        if len(payload) < _SMALL_FRAME:
            self.transport.write(header + payload)
        else:
            self.transport.writelines((header, payload))
        if self._paused:
            self._check_write_buffer()

    def _check_write_buffer(self) -> None:
        """Fail a socket whose unsent bytes passed the cap: its peer does not read."""
        if self.transport.get_write_buffer_size() <= self._shared.write_buffer_max:
            return
        self._shared.logger.info("WebSocket failed: the peer does not read")
        self._give_disconnect(CLOSE_POLICY, "write buffer full")
        self._fragments = None
        self._state = _CLOSED
        self._cancel_close_timer()
        self.transport.abort()

    def keepalive(self, timeout_sweeps: int | None) -> None:
        """One keepalive sweep: ping an open socket, or fail one whose ping went unanswered."""
        if self._state != _OPEN:
            return
        if self._unanswered:
            if timeout_sweeps is not None and self._unanswered >= timeout_sweeps:
                self._fail(CLOSE_INTERNAL_ERROR, "keepalive ping timeout")
                return
            if self._unanswered < 255:
                self._unanswered += 1
            return
        self._unanswered = 1
        self._write_frame(OP_PING, b"")

    def _pause_reading(self) -> None:
        if not self._read_paused:
            self._read_paused = True
            self.transport.pause_reading()

    def _resume_reading(self) -> None:
        if self._read_paused:
            self._read_paused = False
            self.transport.resume_reading()

    def _cancel_close_timer(self) -> None:
        timer, self._close_timer = self._close_timer, None
        if timer is not None:
            timer.cancel()


def _check_head(second: int, opcode: int) -> None:
    """What a frame's first two bytes must say before its length is read (RFC 6455 §5.2)."""
    if opcode not in frames.DATA_OPCODES and opcode not in frames.CONTROL_OPCODES:
        raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode}")
    if not second & 0x80:
        raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "unmasked client frame")


def _check_bits(first: int, opcode: int, length: int) -> None:
    """The rules a whole frame must follow besides (RFC 6455 §5.2, §5.5)."""
    if first & 0x70:
        raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "reserved bits set")
    if opcode in frames.CONTROL_OPCODES:
        if not first & 0x80:
            raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "fragmented control frame")
        if length > frames.MAX_CONTROL_PAYLOAD:
            raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "control frame too long")


def lean_connection(send: object) -> LeanWebSocketProtocol | None:
    """The lean connection behind an ASGI `send`, or None when another transport serves the
    socket."""
    owner = getattr(send, "__self__", None)
    return owner if isinstance(owner, LeanWebSocketProtocol) else None


def ready_frame_writer(send: object) -> Callable[[bytes], bool] | None:
    """`write_ready_frame` of the lean connection behind an ASGI `send`, or None when another
    transport serves the socket."""
    owner = lean_connection(send)
    return owner.write_ready_frame if owner is not None else None
