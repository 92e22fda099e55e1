"""An in-process uvicorn with the lean transport and a small ASGI app that exercises it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn

from cowrite.leanws import lean_connection, ready_frame_writer
from cowrite.leanws.frames import text_frame
from tests.support.server import free_port

MAX_SIZE = 256 * 1024

WAIT_SECONDS = 10.0  # bounds every wait on the server, so a broken one fails, not hangs


@dataclass
class Probe:
    """What the app saw: each socket's final disconnect event, by path."""

    disconnects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, path: str, event: dict[str, Any]) -> None:
        self.disconnects.setdefault(path, []).append(event)
        self.changed.set()

    async def disconnect_of(self, path: str) -> dict[str, Any]:
        async with asyncio.timeout(WAIT_SECONDS):
            while not self.disconnects.get(path):
                self.changed.clear()
                await self.changed.wait()
        return self.disconnects[path].pop(0)


class App:
    """Routes by path: /echo echoes (it answers "flood N" with N big frames, and "ready N" with
    N big text frames written as ready frames while the transport takes them), /offer takes
    "quick X" frames as they are read (answering "took X") while it waits and echoes the rest
    ("sleep" first waits 0.3 s, then answers "slept"), /deny closes before accepting, /http
    answers in plain HTTP, /bye closes at once with 4000, /crash fails before accepting, /late
    accepts after a delay."""

    def __init__(self, probe: Probe) -> None:
        self.probe = probe

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "websocket":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"no"})
            return
        path = scope["path"]
        assert (await receive())["type"] == "websocket.connect"
        if path == "/deny":
            await send({"type": "websocket.close", "code": 1000})
            return
        if path == "/http":
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": 418,
                    "headers": [(b"x-why", b"teapot")],
                }
            )
            await send(
                {"type": "websocket.http.response.body", "body": b"short", "more_body": True}
            )
            await send({"type": "websocket.http.response.body", "body": b" and stout"})
            return
        if path == "/crash":
            raise RuntimeError("the app failed before accepting")
        if path == "/late":
            await asyncio.sleep(0.2)
        offered = scope["subprotocols"]
        await send(
            {
                "type": "websocket.accept",
                "subprotocol": offered[0] if offered else None,
                "headers": [(b"x-app", b"yes")],
            }
        )
        if path == "/bye":
            await send({"type": "websocket.close", "code": 4000, "reason": "bye"})
            self.probe.record(path, await receive())
            return
        write_ready = ready_frame_writer(send)
        if path == "/offer":
            await self._offer(send, receive, write_ready)
            return
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                self.probe.record(path, event)
                if write_ready is not None:
                    self.probe.record("ready-after-close", {"wrote": write_ready(b"\x81\x00")})
                return
            text = event.get("text")
            if text is not None and text.startswith("ready ") and write_ready is not None:
                count, in_place = int(text.split()[1]), 0
                for index in range(count):
                    body = chr(ord("a") + index % 26) * 65536
                    if write_ready(text_frame(body)):
                        in_place += 1
                    else:  # the buffer is full: the ASGI send waits for it to drain
                        await send({"type": "websocket.send", "text": body})
                await send({"type": "websocket.send", "text": f"ready {in_place} of {count}"})
            elif text is not None and text.startswith("flood "):
                for index in range(int(text.split()[1])):
                    await send({"type": "websocket.send", "bytes": bytes([index % 256]) * 65536})
                await send({"type": "websocket.send", "text": "flooded"})
            elif text is not None:
                await send({"type": "websocket.send", "text": text})
            else:
                await send({"type": "websocket.send", "bytes": event["bytes"]})

    async def _offer(self, send: Any, receive: Any, write_ready: Any) -> None:
        def quick(text: str) -> bool:
            if not text.startswith("quick "):
                return False
            assert write_ready(text_frame("took " + text[6:]))
            return True

        connection = lean_connection(send)
        assert connection is not None
        connection.offer_texts(quick)
        while True:
            event = await receive()
            if event["type"] == "websocket.disconnect":
                self.probe.record("/offer", event)
                return
            if event.get("text") == "sleep":
                await asyncio.sleep(0.3)
                await send({"type": "websocket.send", "text": "slept"})
            else:
                await send({"type": "websocket.send", "text": event.get("text")})


@dataclass
class LiveServer:
    port: int
    probe: Probe
    server: uvicorn.Server
    task: asyncio.Task[None]


async def start_server(**options: Any) -> LiveServer:
    probe = Probe()
    config = uvicorn.Config(
        App(probe),
        host="127.0.0.1",
        port=free_port(),
        ws="cowrite.leanws:LeanWebSocketProtocol",
        ws_max_size=MAX_SIZE,
        lifespan="off",
        log_level="critical",
        **options,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    return LiveServer(config.port, probe, server, task)


async def stop_server(live: LiveServer) -> None:
    live.server.should_exit = True
    await asyncio.wait_for(live.task, 20)


@pytest.fixture(scope="module")
async def live() -> AsyncIterator[LiveServer]:
    server = await start_server()
    yield server
    await stop_server(server)
