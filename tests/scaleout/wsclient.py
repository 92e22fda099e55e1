"""A small `/ws` presence client for multi-process tests: JSON frames in, events out."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import websockets

# The tests' clusters close a socket silent for 2 s (COWRITE_PRESENCE_TIMEOUT_SECONDS); like the
# web app, the client beats well inside that, so a slow run cannot time out a listening client.
HEARTBEAT_SECONDS = 0.5


class PresenceClient:
    def __init__(self, name: str) -> None:
        self.name = name
        self.events: list[dict[str, Any]] = []
        self.connection_id: str | None = None
        self._socket: websockets.ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._beat: asyncio.Task[None] | None = None
        self._arrived = asyncio.Event()

    async def connect(self, ws_url: str, token: str) -> PresenceClient:
        self._socket = await websockets.connect(f"{ws_url}/ws?token={token}", compression=None)
        self._reader = asyncio.create_task(self._read(self._socket))
        self._beat = asyncio.create_task(self._heartbeat(self._socket))
        connected = await self.next_event(lambda event: event["type"] == "connected")
        self.connection_id = connected["connection_id"]
        return self

    async def _read(self, socket: websockets.ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in socket:
                body = json.loads(frame)
                events = body["events"] if body.get("type") == "batch" else [body]
                self.events.extend(events)
                self._arrived.set()

    async def _heartbeat(self, socket: websockets.ClientConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.sleep(HEARTBEAT_SECONDS)
                await socket.send(json.dumps({"type": "heartbeat"}))

    async def send(self, body: dict[str, Any]) -> None:
        assert self._socket is not None
        await self._socket.send(json.dumps(body))

    async def join(self, document_id: str) -> dict[str, Any]:
        await self.send({"type": "join_document", "document_id": document_id})
        return await self.next_event(
            lambda event: event["type"] == "presence_list" and event["document_id"] == document_id
        )

    async def next_event(self, matches: Any, within: float = 10.0) -> dict[str, Any]:
        """The first event (already received or still to come) that `matches`."""
        async with asyncio.timeout(within):
            while True:
                for event in self.events:
                    if matches(event):
                        return event
                self._arrived.clear()
                await self._arrived.wait()

    async def close(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            await asyncio.gather(self._beat, return_exceptions=True)
        if self._socket is not None:
            await self._socket.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
