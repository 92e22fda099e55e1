"""A real HTTP receiver for webhook tests: an asyncio server on 127.0.0.1 that records every
request and answers as the test tells it (a status, or hanging without an answer)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HANG = -1


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def delivery_id(self) -> str:
        return self.headers["x-cowrite-delivery"]

    @property
    def event(self) -> str:
        return self.headers["x-cowrite-event"]

    def signed_by(self, secret: str) -> bool:
        timestamp = self.headers["x-cowrite-timestamp"].encode()
        expected = hmac.new(secret.encode(), timestamp + b"." + self.body, hashlib.sha256)
        return hmac.compare_digest(
            self.headers["x-cowrite-signature"], f"sha256={expected.hexdigest()}"
        )


@dataclass
class Receiver:
    """`answer(request)` picks the status for each request (HANG: never answer)."""

    answer: Callable[[Received], int] = lambda _request: 200
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)
    _hanging: list[asyncio.Event] = field(default_factory=list)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        for event in self._hanging:
            event.set()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    async def wait_for(
        self, predicate: Callable[[list[Received]], bool], within: float = 20.0
    ) -> list[Received]:
        """Wait until the requests so far satisfy `predicate`; returns them."""
        async with self._arrived:
            await asyncio.wait_for(self._arrived.wait_for(lambda: predicate(self.requests)), within)
            return list(self.requests)

    async def wait_count(self, count: int, path: str | None = None) -> list[Received]:
        def enough(requests: list[Received]) -> bool:
            return len([r for r in requests if path is None or r.path == path]) >= count

        requests = await self.wait_for(enough)
        return [r for r in requests if path is None or r.path == path]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await self._read(reader)
                if request is None:
                    return
                status = self.answer(request)
                async with self._arrived:
                    self.requests.append(request)
                    self._arrived.notify_all()
                if status == HANG:
                    hang = asyncio.Event()
                    self._hanging.append(hang)
                    await hang.wait()
                    return
                body = b'{"ok": true}'
                writer.write(
                    f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    @staticmethod
    async def _read(reader: asyncio.StreamReader) -> Received | None:
        head = await reader.readuntil(b"\r\n\r\n") if not reader.at_eof() else b""
        if not head:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        return Received(method, path, headers, body)
