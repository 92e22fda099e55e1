"""The lean transport on a real uvicorn, driven byte by byte: handshake, framing, close codes,
and the malformed input RFC 6455 says must fail the connection."""

from __future__ import annotations

import asyncio
import os

import pytest

from cowrite.leanws import ready_frame_writer
from cowrite.leanws.frames import text_frame
from tests.leanws.conftest import MAX_SIZE, LiveServer, start_server, stop_server
from tests.leanws.rawclient import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RawClient,
    close_body,
    encode_frame,
)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


async def _open(live: LiveServer, path: str = "/echo", **options: object) -> RawClient:
    client = await RawClient.connect(live.port, path, **options)  # type: ignore[arg-type]
    assert client.status == 101, client.body
    return client


async def test_handshake_answers_the_key_with_the_apps_subprotocol_and_headers(
    live: LiveServer,
) -> None:
    client = await _open(live, headers={"Sec-WebSocket-Protocol": "yjs, other"}, key=KEY)
    assert client.headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert client.headers["upgrade"].lower() == "websocket"
    assert client.headers["sec-websocket-protocol"] == "yjs"
    assert client.headers["x-app"] == "yes"
    assert "sec-websocket-extensions" not in client.headers  # no per-message deflate
    await client.aclose()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Sec-WebSocket-Key": "bm90IDE2IGJ5dGVz"}, 400),
        ({"Sec-WebSocket-Version": "8"}, 426),
        ({"Sec-WebSocket-Version": ""}, 400),
    ],
)
async def test_a_bad_upgrade_gets_an_http_error(
    live: LiveServer, headers: dict[str, str], status: int
) -> None:
    client = await RawClient.connect(live.port, "/echo", headers=headers)
    assert client.status == status
    assert b"Failed to open a WebSocket connection" in client.body
    await client.aclose()


async def test_close_before_accept_is_http_403(live: LiveServer) -> None:
    client = await RawClient.connect(live.port, "/deny")
    assert client.status == 403
    await client.aclose()


async def test_the_app_may_answer_in_plain_http(live: LiveServer) -> None:
    client = await RawClient.connect(live.port, "/http")
    assert client.status == 418
    assert client.headers["x-why"] == "teapot"
    assert client.body == b"short and stout"
    await client.aclose()


async def test_an_app_that_fails_before_accepting_gives_500(live: LiveServer) -> None:
    client = await RawClient.connect(live.port, "/crash")
    assert client.status == 500
    await client.aclose()


@pytest.mark.parametrize("size", [0, 5, 125, 126, 65535, 65536, 200_000])
async def test_text_and_binary_messages_echo_at_every_length_encoding(
    live: LiveServer, size: int
) -> None:
    client = await _open(live)
    payload = os.urandom(size)
    client.send_frame(OP_BINARY, payload)
    frame = await client.read_frame()
    assert (frame.fin, frame.opcode, frame.payload) == (True, OP_BINARY, payload)
    text = "é" * (size // 2)
    client.send_frame(OP_TEXT, text.encode())
    frame = await client.read_frame()
    assert (frame.opcode, frame.payload.decode()) == (OP_TEXT, text)
    await client.aclose()


async def test_a_frame_that_arrives_byte_by_byte_is_reassembled(live: LiveServer) -> None:
    client = await _open(live)
    data = encode_frame(OP_BINARY, b"x" * 300) + encode_frame(OP_TEXT, b"next")
    for index in range(len(data)):
        client.send(data[index : index + 1])
        await client.writer.drain()
    assert (await client.read_frame()).payload == b"x" * 300
    assert (await client.read_frame()).payload == b"next"
    await client.aclose()


async def test_fragments_make_one_message_and_pings_between_them_get_pongs(
    live: LiveServer,
) -> None:
    client = await _open(live)
    word = "fragmentée".encode()
    client.send_frame(OP_TEXT, word[:3], fin=False)
    client.send_frame(OP_PING, b"are you there")
    client.send_frame(OP_CONT, word[3:9], fin=False)  # splits the "é" between frames
    client.send_frame(OP_CONT, word[9:], fin=True)
    pong = await client.read_frame()
    assert (pong.opcode, pong.payload) == (OP_PONG, b"are you there")
    message = await client.read_frame()
    assert (message.opcode, message.payload) == (OP_TEXT, word)
    await client.aclose()


async def test_frames_sent_right_behind_the_upgrade_wait_for_the_accept(
    live: LiveServer,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", live.port)
    writer.write(
        b"GET /late HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + KEY.encode() + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    await writer.drain()
    await asyncio.sleep(0.05)  # a read of its own: uvicorn's HTTP layer drops bytes behind a head
    writer.write(encode_frame(OP_TEXT, b"early"))
    client = RawClient(reader, writer)
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    assert (await client.read_frame()).payload == b"early"
    await client.aclose()


async def test_client_close_is_answered_and_reaches_the_app(live: LiveServer) -> None:
    client = await _open(live, "/echo/close")
    client.send_frame(OP_CLOSE, close_body(4321, "done here"))
    frame = await client.read_frame()
    assert frame.close_code == 4321
    await client.read_to_eof()
    event = await live.probe.disconnect_of("/echo/close")
    assert (event["code"], event["reason"]) == (4321, "done here")
    await client.aclose()


async def test_an_empty_close_is_answered_empty_and_means_1005(live: LiveServer) -> None:
    client = await _open(live, "/echo/empty-close")
    client.send_frame(OP_CLOSE, b"")
    frame = await client.read_frame()
    assert (frame.opcode, frame.payload) == (OP_CLOSE, b"")
    event = await live.probe.disconnect_of("/echo/empty-close")
    assert event["code"] == 1005
    await client.aclose()


async def test_server_close_carries_code_and_reason_and_waits_for_the_answer(
    live: LiveServer,
) -> None:
    client = await _open(live, "/bye")
    frame = await client.read_frame()
    assert (frame.close_code, frame.close_reason) == (4000, "bye")
    client.send_frame(OP_CLOSE, frame.payload)
    assert await client.read_to_eof() == b""
    event = await live.probe.disconnect_of("/bye")
    assert event["code"] == 4000
    await client.aclose()


async def test_messages_that_cross_the_servers_close_are_dropped_quietly(
    live: LiveServer,
) -> None:
    client = await _open(live, "/bye")
    frame = await client.read_frame()
    assert frame.close_code == 4000
    client.send_frame(OP_TEXT, b"half", fin=False)  # the client was mid-message
    client.send_frame(OP_CONT, b" a message")
    client.send_frame(OP_CLOSE, frame.payload)
    assert await client.read_to_eof() == b""  # no error frame: just the end of the handshake
    assert (await live.probe.disconnect_of("/bye"))["code"] == 4000
    await client.aclose()


async def test_a_dropped_connection_reaches_the_app_as_1006(live: LiveServer) -> None:
    client = await _open(live, "/echo/drop")
    client.writer.transport.abort()
    event = await live.probe.disconnect_of("/echo/drop")
    assert event["code"] == 1006


BAD_FRAMES = [
    ("unmasked", encode_frame(OP_BINARY, b"abc", masked=False), 1002),
    ("reserved bit", encode_frame(OP_BINARY, b"abc", rsv=4), 1002),
    ("unknown opcode", encode_frame(0x3, b"abc"), 1002),
    ("unknown control opcode", encode_frame(0xB, b""), 1002),
    ("fragmented ping", encode_frame(OP_PING, b"x", fin=False), 1002),
    ("long ping", encode_frame(OP_PING, b"x" * 126), 1002),
    ("lone continuation", encode_frame(OP_CONT, b"abc"), 1002),
    (
        "message inside a message",
        encode_frame(OP_TEXT, b"a", fin=False) + encode_frame(OP_TEXT, b"b"),
        1002,
    ),
    ("close code not for the wire", encode_frame(OP_CLOSE, close_body(1005)), 1002),
    ("one-byte close", encode_frame(OP_CLOSE, b"\x03"), 1002),
    ("text not UTF-8", encode_frame(OP_TEXT, b"\xff\xfe"), 1007),
    (
        "fragmented text not UTF-8",
        encode_frame(OP_TEXT, b"ok", fin=False) + encode_frame(OP_CONT, b"\xc3"),
        1007,
    ),
    ("close reason not UTF-8", encode_frame(OP_CLOSE, close_body(1000) + b"\xff"), 1007),
    ("too big", encode_frame(OP_BINARY, b"", length=MAX_SIZE + 1), 1009),
    (
        "too big in fragments",
        encode_frame(OP_BINARY, b"x" * (MAX_SIZE // 2), fin=False)
        + encode_frame(OP_CONT, b"x" * (MAX_SIZE // 2), fin=False)
        + encode_frame(OP_CONT, b"x"),
        1009,
    ),
]


@pytest.mark.parametrize(("case", "data", "code"), BAD_FRAMES, ids=[c[0] for c in BAD_FRAMES])
async def test_malformed_input_fails_the_connection_with_its_code(
    live: LiveServer, case: str, data: bytes, code: int
) -> None:
    path = f"/echo/bad/{case.replace(' ', '-')}"
    client = await _open(live, path)
    client.send(data)
    frame = await client.read_until_close()
    assert frame.close_code == code
    await client.read_to_eof()
    assert (await live.probe.disconnect_of(path))["code"] == code
    await client.aclose()


async def test_a_reader_that_lags_gets_every_frame_in_order(live: LiveServer) -> None:
    """The server's sends wait while the transport is paused and resume when it drains."""
    client = await _open(live)
    client.send_frame(OP_TEXT, b"flood 64")  # 64 frames of 64 KB: more than any buffer holds
    await asyncio.sleep(0.5)  # let the server fill the socket buffers and pause
    for index in range(64):
        frame = await client.read_frame()
        assert frame.payload == bytes([index]) * 65536
    assert (await client.read_frame()).payload == b"flooded"
    await client.aclose()


async def test_ready_frames_go_out_in_place_until_the_buffer_fills_then_in_order(
    live: LiveServer,
) -> None:
    """Fan-out writes one prepared frame to many sockets without an ASGI message; when the
    transport is paused it declines, the app falls back to `send`, and nothing is reordered."""
    # A small receive buffer, and more bytes than the server's send buffer can hold (the kernel
    # grows both on its own, to megabytes), so the transport must pause before the last frame.
    client = await _open(live, receive_buffer=65536)
    count = 256  # frames of 64 KiB: 16 MiB
    client.send_frame(OP_TEXT, f"ready {count}".encode())
    await asyncio.sleep(0.5)  # let the server fill the socket buffers and pause
    for index in range(count):
        frame = await client.read_frame()
        assert frame.opcode == OP_TEXT
        assert frame.payload == bytes([ord("a") + index % 26]) * 65536
    last = (await client.read_frame()).payload.decode()
    in_place = int(last.split()[1])
    assert last == f"ready {in_place} of {count}"
    assert 0 < in_place < count  # some went in place, some waited for the paused transport
    client.send_frame(OP_CLOSE, close_body(1000))
    await client.read_to_eof()
    await live.probe.disconnect_of("/echo")
    assert (await live.probe.disconnect_of("ready-after-close")) == {"wrote": False}
    await client.aclose()


async def test_offered_texts_are_taken_while_the_app_waits_and_queued_while_it_is_busy(
    live: LiveServer,
) -> None:
    client = await _open(live, "/offer")
    client.send_frame(OP_TEXT, b"quick a")
    assert (await client.read_frame()).payload == b"took a"  # the handler took it
    client.send_frame(OP_TEXT, b"plain")
    assert (await client.read_frame()).payload == b"plain"  # declined: through `receive`
    # While the app is busy, a frame the handler could take waits its turn behind the other.
    client.send_frame(OP_TEXT, b"sleep")
    await asyncio.sleep(0.1)
    client.send_frame(OP_TEXT, b"quick b")
    assert (await client.read_frame()).payload == b"slept"
    assert (await client.read_frame()).payload == b"quick b"
    client.send_frame(OP_TEXT, b"quick c")  # waiting again: taken again
    assert (await client.read_frame()).payload == b"took c"
    client.send_frame(OP_CLOSE, close_body(1000))
    await client.read_to_eof()
    assert (await live.probe.disconnect_of("/offer"))["code"] == 1000
    await client.aclose()


def test_other_transports_have_no_ready_frame_writer() -> None:
    async def send(message: object) -> None: ...

    assert ready_frame_writer(send) is None


def test_a_text_frame_is_header_and_utf8_payload() -> None:
    assert text_frame("hé") == b"\x81\x03h\xc3\xa9"
    big = text_frame("x" * 300)
    assert big[:4] == b"\x81\x7e\x01\x2c" and big[4:] == b"x" * 300


async def test_shutdown_closes_open_sockets_with_1012() -> None:
    live = await start_server()
    client = await _open(live)
    stopping = asyncio.create_task(stop_server(live))
    frame = await client.read_until_close()
    assert frame.close_code == 1012
    await client.aclose()
    await stopping


async def test_keepalive_pings_and_drops_a_silent_peer() -> None:
    live = await start_server(ws_ping_interval=0.1, ws_ping_timeout=0.1)
    try:
        client = await _open(live, "/echo/keepalive")
        ping = await client.read_frame()
        assert ping.opcode == OP_PING
        frame = await client.read_until_close()  # never answered: the server gives up
        assert frame.close_code == 1011
        assert (await live.probe.disconnect_of("/echo/keepalive"))["code"] == 1011
        await client.aclose()
    finally:
        await stop_server(live)
