"""A raw WebSocket client over asyncio streams: it sends exactly the bytes a test asks for,
well-formed or not, and reads frames as the server wrote them."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
from dataclasses import dataclass

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA

WAIT_SECONDS = 10.0  # bounds every wait on the server, so a broken one fails, not hangs
ESTABLISHED = 1  # TCP_INFO's state byte


def encode_frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    masked: bool = True,
    rsv: int = 0,
    length: int | None = None,
) -> bytes:
    """One client frame; `length` overrides the length field (to lie about it)."""
    size = len(payload) if length is None else length
    first = (0x80 if fin else 0) | rsv << 4 | opcode
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head = bytes((first, mask_bit | size))
    elif size < 0x10000:
        head = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def close_body(code: int, reason: str = "") -> bytes:
    return struct.pack("!H", code) + reason.encode()


@dataclass
class Frame:
    fin: bool
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        if self.opcode != OP_CLOSE or len(self.payload) < 2:
            return None
        return int(struct.unpack("!H", self.payload[:2])[0])

    @property
    def close_reason(self) -> str:
        return self.payload[2:].decode()


class RawClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.status = 0
        self.headers: dict[str, str] = {}
        self.body = b""

    @classmethod
    async def connect(
        cls,
        port: int,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        key: str | None = None,
        receive_buffer: int | None = None,
    ) -> RawClient:
        """Send an upgrade request and read the answer's head (and body, if refused);
        `receive_buffer` shrinks the socket's kernel buffer (a client that barely reads)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**24)
        client = cls(reader, writer)
        fields = {
            "Host": f"127.0.0.1:{port}",
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": key or base64.b64encode(os.urandom(16)).decode(),
            "Sec-WebSocket-Version": "13",
            **(headers or {}),
        }
        lines = [f"GET {path} HTTP/1.1", *(f"{k}: {v}" for k, v in fields.items() if v)]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        client.status = int(status_line.split(" ")[1])
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                client.headers[name.strip().lower()] = value.strip()
        if client.status != 101:
            client.body = await reader.read()
        return client

    def dropped(self) -> bool:
        """The server ended its side of the connection (closed, half-closed or reset), seen
        without reading from it: the kernel's TCP state is no longer ESTABLISHED."""
        sock = self.writer.get_extra_info("socket")
        return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0] != ESTABLISHED)

    def send(self, data: bytes) -> None:
        self.writer.write(data)

    def send_frame(self, opcode: int, payload: bytes, **options: object) -> None:
        self.writer.write(encode_frame(opcode, payload, **options))  # type: ignore[arg-type]

    async def read_frame(self) -> Frame:
        async with asyncio.timeout(WAIT_SECONDS):
            first, second = await self.reader.readexactly(2)
            assert not second & 0x80, "server frames are never masked"
            length = second & 0x7F
            if length == 126:
                length = struct.unpack("!H", await self.reader.readexactly(2))[0]
            elif length == 127:
                length = struct.unpack("!Q", await self.reader.readexactly(8))[0]
            payload = await self.reader.readexactly(length)
        return Frame(bool(first & 0x80), first & 0x0F, payload)

    async def read_until_close(self) -> Frame:
        """Frames until the close frame (data frames are skipped)."""
        while True:
            frame = await self.read_frame()
            if frame.opcode == OP_CLOSE:
                return frame

    async def read_to_eof(self) -> bytes:
        """Whatever is left once the server has closed the TCP connection."""
        async with asyncio.timeout(WAIT_SECONDS):
            return await self.reader.read()

    async def aclose(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()

    def abort(self) -> None:
        """Drop the connection at once with whatever is still queued to send: a flooding
        attacker that got its answer. (A polite close would wait, behind bytes the server no
        longer reads, for the server's close timeout.)"""
        self.writer.transport.abort()
