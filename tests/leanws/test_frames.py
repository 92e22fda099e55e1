"""The pure RFC 6455 pieces: handshake validation, masks, close payloads."""

from __future__ import annotations

import os

import pytest

from cowrite.leanws import frames
from cowrite.leanws.frames import HandshakeError, ProtocolViolation

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="


def _head(*lines: bytes, request: bytes = b"GET /ws?x=1 HTTP/1.1") -> bytes:
    base = [
        request,
        b"host: example",
        b"upgrade: websocket",
        b"connection: keep-alive, Upgrade",
        b"sec-websocket-key: " + KEY,
        b"sec-websocket-version: 13",
    ]
    return b"\r\n".join([*base, *lines])


def test_accept_value_matches_the_rfc_example() -> None:
    assert frames.accept_value(KEY) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def test_a_valid_upgrade_keeps_target_headers_and_subprotocols() -> None:
    upgrade = frames.parse_upgrade(_head(b"Sec-WebSocket-Protocol: chat, superchat"))
    assert upgrade.target == b"/ws?x=1"
    assert (b"host", b"example") in upgrade.headers
    assert upgrade.subprotocols == ["chat", "superchat"]
    assert upgrade.accept == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


@pytest.mark.parametrize(
    ("head", "status"),
    [
        (_head(request=b"POST /ws HTTP/1.1"), 405),
        (_head(request=b"GET /ws HTTP/1.0"), 505),
        (_head(request=b"GET /ws"), 400),
        (_head(b"sec-websocket-key: " + KEY), 400),
        (_head().replace(b"sec-websocket-key: " + KEY, b"sec-websocket-key: c2hvcnQ="), 400),
        (_head().replace(b"sec-websocket-version: 13", b"sec-websocket-version: 8"), 426),
        (_head().replace(b"sec-websocket-version: 13", b"x-other: 1"), 400),
        (_head().replace(b"upgrade: websocket", b"upgrade: h2c"), 400),
        (_head().replace(b"keep-alive, Upgrade", b"keep-alive"), 400),
        (_head(b"no colon here"), 400),
    ],
)
def test_a_bad_upgrade_is_refused_with_its_status(head: bytes, status: int) -> None:
    with pytest.raises(HandshakeError) as caught:
        frames.parse_upgrade(head)
    assert caught.value.status == status


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 125, 126, 65535, 65536, 100_003])
def test_unmask_undoes_a_mask(size: int) -> None:
    payload = os.urandom(size)
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    assert frames.unmask(masked, mask) == payload


@pytest.mark.parametrize(("length", "size"), [(0, 2), (125, 2), (126, 4), (65535, 4), (65536, 10)])
def test_frame_header_picks_the_shortest_length_encoding(length: int, size: int) -> None:
    header = frames.frame_header(frames.OP_BINARY, length)
    assert len(header) == size
    assert header[0] == 0x82


def test_close_payload_round_trips_and_cuts_long_reasons() -> None:
    assert frames.parse_close(frames.close_payload(4001, "bye")) == (4001, "bye")
    code, reason = frames.parse_close(frames.close_payload(1000, "é" * 200))
    assert code == 1000
    assert len(reason.encode()) <= 123
    assert frames.close_payload(1005, "x") == b""
    assert frames.parse_close(b"") == (1005, "")


@pytest.mark.parametrize(
    ("payload", "code"),
    [(b"\x03", 1002), (b"\x03\xed", 1002), (b"\x03\xee", 1002), (b"\x03\xe8\xff", 1007)],
)
def test_bad_close_payloads_are_violations(payload: bytes, code: int) -> None:
    with pytest.raises(ProtocolViolation) as caught:
        frames.parse_close(payload)
    assert caught.value.code == code
