"""RFC 6455 pieces as pure functions over bytes: the opening handshake, frame headers, masks
and close payloads. No I/O and no state, so the transport stays small and this stays testable."""

from __future__ import annotations

import base64
import binascii
import struct
from http import HTTPStatus

from websockets.speedups import apply_mask
from websockets.utils import accept_key

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
DATA_OPCODES = frozenset((OP_CONTINUATION, OP_TEXT, OP_BINARY))
CONTROL_OPCODES = frozenset((OP_CLOSE, OP_PING, OP_PONG))

CLOSE_NORMAL = 1000
CLOSE_NO_STATUS = 1005  # the peer's close frame carried no code
CLOSE_ABNORMAL = 1006  # the connection dropped without a close frame
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
CLOSE_SERVICE_RESTART = 1012

MAX_CONTROL_PAYLOAD = 125
_HEADER_16 = struct.Struct("!BBH")
_HEADER_64 = struct.Struct("!BBQ")
_CODE = struct.Struct("!H")


class ProtocolViolation(Exception):
    """The peer broke the framing rules: the connection fails with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class HandshakeError(Exception):
    """An upgrade request that cannot be accepted, with the HTTP status that says why."""

    def __init__(
        self, status: int, message: str, headers: tuple[tuple[bytes, bytes], ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers


class UpgradeRequest:
    """The parts of an upgrade request the transport keeps (the rest is dropped at once)."""

    __slots__ = ("accept", "headers", "subprotocols", "target")

    def __init__(
        self,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        accept: bytes,
        subprotocols: list[str],
    ) -> None:
        self.target = target
        self.headers = headers
        self.accept = accept
        self.subprotocols = subprotocols


def _tokens(headers: list[tuple[bytes, bytes]], name: bytes) -> set[bytes]:
    found: set[bytes] = set()
    for key, value in headers:
        if key == name:
            found.update(token.strip().lower() for token in value.split(b","))
    return found


def parse_upgrade(head: bytes) -> UpgradeRequest:
    """Validate an opening handshake (RFC 6455 §4.2.1) given the request head without its
    final blank line; header names come back lower-cased, as ASGI wants them."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        raise HandshakeError(HTTPStatus.BAD_REQUEST, "malformed request line")
    method, target, version = parts
    if method != b"GET":
        raise HandshakeError(
            HTTPStatus.METHOD_NOT_ALLOWED, "WebSocket needs GET", ((b"Allow", b"GET"),)
        )
    if version != b"HTTP/1.1":
        raise HandshakeError(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED, "WebSocket needs HTTP/1.1")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip():
            raise HandshakeError(HTTPStatus.BAD_REQUEST, "malformed header line")
        headers.append((name.lower(), value.strip()))
    if b"websocket" not in _tokens(headers, b"upgrade"):
        raise HandshakeError(HTTPStatus.BAD_REQUEST, "missing Upgrade: websocket")
    if b"upgrade" not in _tokens(headers, b"connection"):
        raise HandshakeError(HTTPStatus.BAD_REQUEST, "missing Connection: Upgrade")
    keys = [value for key, value in headers if key == b"sec-websocket-key"]
    if len(keys) != 1 or not _valid_key(keys[0]):
        raise HandshakeError(HTTPStatus.BAD_REQUEST, "missing or invalid Sec-WebSocket-Key")
    versions = [value for key, value in headers if key == b"sec-websocket-version"]
    if versions != [b"13"]:
        raise HandshakeError(
            HTTPStatus.UPGRADE_REQUIRED if versions else HTTPStatus.BAD_REQUEST,
            "unsupported Sec-WebSocket-Version",
            ((b"Sec-WebSocket-Version", b"13"),),
        )
    subprotocols = [
        token.strip().decode("latin-1")
        for key, value in headers
        if key == b"sec-websocket-protocol"
        for token in value.split(b",")
        if token.strip()
    ]
    return UpgradeRequest(target, headers, accept_value(keys[0]), subprotocols)


def _valid_key(key: bytes) -> bool:
    try:
        return len(base64.b64decode(key, validate=True)) == 16
    except binascii.Error:
        return False


def accept_value(key: bytes) -> bytes:
    """Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (computed by `websockets`)."""
    return accept_key(key.decode("latin-1")).encode("latin-1")


def safe_header(name: bytes, value: bytes) -> bool:
    """A header the app asked for that cannot split the response."""
    return not any(c in part for part in (name, value) for c in (b"\r", b"\n")) and b":" not in name


def switching_response(
    accept: bytes, subprotocol: str | None, headers: list[tuple[bytes, bytes]]
) -> bytes:
    """The 101 answer that opens the WebSocket, with the app's subprotocol and headers."""
    lines = [
        b"HTTP/1.1 101 Switching Protocols",
        b"Upgrade: websocket",
        b"Connection: Upgrade",
        b"Sec-WebSocket-Accept: " + accept,
    ]
    if subprotocol:
        lines.append(b"Sec-WebSocket-Protocol: " + subprotocol.encode("latin-1"))
    for name, value in headers:
        if not safe_header(name, value):
            raise RuntimeError(f"invalid response header {name!r}")
        lines.append(name + b": " + value)
    return b"\r\n".join(lines) + b"\r\n\r\n"


def http_response(status: int, headers: list[tuple[bytes, bytes]], body: bytes = b"") -> bytes:
    """A complete HTTP/1.1 response that ends the connection (for refused upgrades)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    lines = [b"HTTP/1.1 %d %s" % (status, phrase.encode("latin-1"))]
    names = {name.lower() for name, _ in headers}
    lines.extend(name + b": " + value for name, value in headers)
    if b"content-length" not in names:
        lines.append(b"content-length: %d" % len(body))
    if b"content-type" not in names and body:
        lines.append(b"content-type: text/plain; charset=utf-8")
    if b"connection" not in names:
        lines.append(b"connection: close")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def frame_header(opcode: int, length: int) -> bytes:
    """The header of an unmasked, final server frame carrying `length` payload bytes."""
    first = 0x80 | opcode
    if length < 126:
        return bytes((first, length))
    if length < 0x10000:
        return _HEADER_16.pack(first, 126, length)
    return _HEADER_64.pack(first, 127, length)


def text_frame(text: str) -> bytes:
    """A whole server text frame, ready for `LeanWebSocketProtocol.write_ready_frame`: made
    once, it can go to any number of sockets."""
    payload = text.encode()
    return frame_header(OP_TEXT, len(payload)) + payload


def binary_frame(payload: bytes) -> bytes:
    """A whole server binary frame, ready for `LeanWebSocketProtocol.write_ready_frame`."""
    return frame_header(OP_BINARY, len(payload)) + payload


def unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR a client payload with its 4-byte mask (the C helper `websockets` ships)."""
    return apply_mask(payload, mask) if payload else b""


def close_payload(code: int, reason: str) -> bytes:
    """A close frame's payload; the reason is cut to fit a control frame."""
    if code in (CLOSE_NO_STATUS, CLOSE_ABNORMAL):
        return b""
    encoded = reason.encode()[: MAX_CONTROL_PAYLOAD - 2]
    return _CODE.pack(code) + encoded.decode(errors="ignore").encode()


def valid_close_code(code: int) -> bool:
    """Codes a peer may put on the wire (RFC 6455 §7.4 and the IANA registry)."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def parse_close(payload: bytes) -> tuple[int, str]:
    """The code and reason of a received close frame."""
    if not payload:
        return CLOSE_NO_STATUS, ""
    if len(payload) == 1:
        raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "close frame of one byte")
    (code,) = _CODE.unpack_from(payload)
    try:  # the reason first, then the code: the order `websockets` checks them in
        reason = payload[2:].decode()
    except UnicodeDecodeError:
        raise ProtocolViolation(CLOSE_INVALID_DATA, "close reason is not UTF-8") from None
    if not valid_close_code(code):
        raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, f"invalid close code {code}")
    return code, reason
