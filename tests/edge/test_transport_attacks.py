"""Attacks on the transport itself, with raw sockets against a real server on both WebSocket
transports: pings never read, endless fragments, huge or unfinished request heads."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.edge.conftest import WAIT, Room, attack, bystander, room_still_works
from tests.leanws.rawclient import OP_BINARY, OP_CONT, OP_PING, OP_TEXT, RawClient, encode_frame
from tests.support.server import ServerProcess

ATTACK_SECONDS = 3.0
HANG_UP_POLL = 0.02  # seconds between looks at whether the server has hung up


async def _write_for(
    client: RawClient, frame: bytes, seconds: float, *, until_hung_up: bool = False
) -> int:
    """Send `frame` over and over for `seconds` (or until the server stops taking them);
    how many went out. With `until_hung_up`, stop early once the server has hung up (it ends
    its side once it has answered, and reads no more): a server that never answers still
    gets the whole flood."""
    sent = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    batch = frame * 256
    drained = True
    with contextlib.suppress(ConnectionError):
        while loop.time() < deadline and not (until_hung_up and client.dropped()):
            if drained:
                client.send(batch)
                sent += 256
            try:
                await asyncio.wait_for(client.writer.drain(), HANG_UP_POLL)
                drained = True
            except TimeoutError:
                drained = False  # the server takes no more for now: send nothing more yet
    return sent


async def _close_code_after_flood(client: RawClient) -> int | None:
    """Skip everything the server wrote (thousands of small frames, read in big chunks) up to
    its close frame; that frame's code."""
    buffer = bytearray()
    pos = 0
    async with asyncio.timeout(WAIT):
        while True:
            chunk = await client.reader.read(1 << 20)
            if not chunk:
                return None
            buffer += chunk
            while len(buffer) - pos >= 2:
                opcode, length = buffer[pos] & 0x0F, buffer[pos + 1] & 0x7F
                head = 2
                if length == 126:
                    if len(buffer) - pos < 4:
                        break
                    length, head = int.from_bytes(buffer[pos + 2 : pos + 4], "big"), 4
                elif length == 127:
                    if len(buffer) - pos < 10:
                        break
                    length, head = int.from_bytes(buffer[pos + 2 : pos + 10], "big"), 10
                if len(buffer) - pos < head + length:
                    break
                if opcode == 0x8:
                    return int.from_bytes(buffer[pos + head : pos + head + 2], "big")
                pos += head + length


@pytest.mark.serial  # times /health under the attack
async def test_pings_never_read_cost_the_server_nothing(edge_server: ServerProcess) -> None:
    async with attack(edge_server):
        client = await RawClient.connect(edge_server.port, "/ws")
        assert client.status == 101
        ping = encode_frame(OP_PING, b"p" * 125)
        sent = await _write_for(client, ping, ATTACK_SECONDS, until_hung_up=True)
        assert sent > 0
        # A flood of pings is a policy breach: answered, then closed.
        assert await _close_code_after_flood(client) == 1008
        client.abort()


@pytest.mark.parametrize("size", [0, 1])
@pytest.mark.serial  # times /health under the attack
async def test_endless_fragments_close_1008(
    edge_server: ServerProcess, room: Room, size: int
) -> None:
    path = f"/ws/yjs/{room.document_id}?token={room.editor.access_token}"
    async with bystander(edge_server, room) as by:
        async with attack(edge_server):
            client = await RawClient.connect(edge_server.port, path)
            assert client.status == 101
            client.send(encode_frame(OP_BINARY, b"\x00", fin=False))
            await _write_for(client, encode_frame(OP_CONT, b"f" * size, fin=False), 1.0)
            closing = await client.read_until_close()
            assert closing.close_code == 1008
            client.abort()
        await room_still_works(edge_server, room, by)


@pytest.mark.serial  # times /health under the attack
async def test_a_huge_request_head_is_refused_not_upgraded(edge_server: ServerProcess) -> None:
    async with attack(edge_server):
        reader, writer = await asyncio.open_connection("127.0.0.1", edge_server.port)
        head = (
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        )
        writer.write(head + b"X-Filler: " + b"a" * (3 * 1024 * 1024) + b"\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            await asyncio.wait_for(writer.drain(), WAIT)
        answer = b""
        with contextlib.suppress(ConnectionError):
            answer = await asyncio.wait_for(reader.read(), WAIT)
        # Refused with 431, or dropped while the head was still coming: never upgraded.
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431 ")
        assert b" 101 " not in answer
        writer.close()


@pytest.mark.parametrize("path", ["/ws", "/health"])
async def test_an_unfinished_request_head_times_out(edge_server: ServerProcess, path: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", edge_server.port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n".encode())
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(), WAIT)  # until the server hangs up
    assert answer.startswith(b"HTTP/1.1 408 ")
    writer.close()


@pytest.mark.serial  # times /health under the attack
async def test_the_route_limit_holds_before_authentication(edge_server: ServerProcess) -> None:
    async with attack(edge_server):
        client = await RawClient.connect(edge_server.port, "/ws")
        assert client.status == 101
        client.send_frame(OP_TEXT, b"x" * (256 * 1024))  # /ws takes 64 KiB messages
        closing = await client.read_until_close()
        assert closing.close_code == 1009
        await client.aclose()
