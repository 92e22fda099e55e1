"""Helpers for presence tests: workspaces and documents written straight into the test
database, a small JSON WebSocket client, and an in-process uvicorn server whose state a test
can reach (to emit domain events, or to join two apps on one broker bus)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import uvicorn
import websockets
from fastapi import FastAPI
from sqlalchemy import select

from cowrite.config import Settings
from cowrite.db import create_engine, create_session_factory, unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.models import Document, Membership, UserSession, Workspace
from cowrite.state import AppState
from tests.support.server import free_port

WAIT = 5.0  # seconds a test waits for a frame before it fails


# -- data straight into the database ---------------------------------------------------------


async def make_workspace(
    url: str, owner_id: uuid.UUID, members: Iterable[tuple[uuid.UUID, str]] = ()
) -> uuid.UUID:
    """A workspace owned by `owner_id`, with more (user_id, role) members."""
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            workspace = Workspace(name="Presence team", created_by=owner_id)
            session.add(workspace)
            await session.flush()
            session.add(Membership(workspace_id=workspace.id, user_id=owner_id, role="owner"))
            for user_id, role in members:
                session.add(Membership(workspace_id=workspace.id, user_id=user_id, role=role))
            return workspace.id
    finally:
        await engine.dispose()


async def make_document(
    url: str, workspace_id: uuid.UUID, *, title: str = "Notes", trashed: bool = False
) -> uuid.UUID:
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            document = Document(
                workspace_id=workspace_id,
                title=title,
                content="",
                deleted_at=utcnow() if trashed else None,
            )
            session.add(document)
            await session.flush()
            return document.id
    finally:
        await engine.dispose()


async def sessions_of(url: str, user_id: uuid.UUID) -> list[UserSession]:
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            result = await session.execute(
                select(UserSession)
                .where(UserSession.user_id == user_id)
                .order_by(UserSession.connected_at)
            )
            return list(result.scalars())
    finally:
        await engine.dispose()


async def add_session_row(
    url: str,
    user_id: uuid.UUID,
    *,
    process_id: str,
    last_seen_at: datetime,
    active: bool = True,
) -> uuid.UUID:
    """A session row as a (dead) process would have left it."""
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            row = UserSession(
                connection_id=uuid.uuid4(),
                user_id=user_id,
                channel="ws",
                user_agent="",
                client_address="127.0.0.1",
                device_type="web",
                process_id=process_id,
                is_active=active,
                connected_at=last_seen_at,
                last_seen_at=last_seen_at,
            )
            session.add(row)
            return row.connection_id
    finally:
        await engine.dispose()


# -- a JSON WebSocket client ------------------------------------------------------------------


class WsClient:
    """A `/ws` client that reads frames in order, flattening `batch` frames into events."""

    def __init__(self, socket: websockets.ClientConnection) -> None:
        self.socket = socket
        self.frames: list[dict[str, Any]] = []  # every frame received, in order
        self._buffer: list[dict[str, Any]] = []

    @classmethod
    async def open(
        cls,
        ws_url: str,
        token: str | None = None,
        *,
        auth_frame: bool = False,
        headers: dict[str, str] | None = None,
        expect_connected: bool = True,
    ) -> WsClient:
        url = f"{ws_url}/ws"
        if token and not auth_frame:
            url += f"?token={token}"
        socket = await websockets.connect(
            url, additional_headers=headers or {}, compression=None, open_timeout=WAIT
        )
        client = cls(socket)
        if token and auth_frame:
            await client.send({"type": "auth", "token": token})
        if expect_connected:
            client.connected = await client.expect("connected")
        return client

    connected: dict[str, Any]

    @property
    def connection_id(self) -> str:
        return str(self.connected["connection_id"])

    async def send(self, message: dict[str, Any] | list[Any]) -> None:
        await self.socket.send(orjson.dumps(message).decode())

    async def send_raw(self, data: str | bytes) -> None:
        await self.socket.send(data)

    async def next(self, within: float = WAIT) -> dict[str, Any]:
        """The next event (batches are opened up)."""
        while not self._buffer:
            raw = await asyncio.wait_for(self.socket.recv(), within)
            frame = orjson.loads(raw)
            self.frames.append(frame)
            if frame.get("type") == "batch":
                self._buffer.extend(frame["events"])
            else:
                self._buffer.append(frame)
        return self._buffer.pop(0)

    async def expect(self, kind: str, within: float = WAIT, **match: Any) -> dict[str, Any]:
        """Skip events until one of `kind` whose fields equal `match` arrives."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {kind} {match} within {within}s")
            event = await self.next(remaining)
            if event.get("type") == kind and all(event.get(k) == v for k, v in match.items()):
                return event

    async def request(self, message: dict[str, Any], reply: str) -> dict[str, Any]:
        """Send with an id and wait for the reply (or error) that refers to it."""
        ref = uuid.uuid4().hex[:8]
        await self.send({**message, "id": ref})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while True:
            event = await self.next(max(0.01, deadline - loop.time()))
            if event.get("ref") == ref and event.get("type") in (reply, "error"):
                return event

    async def join(self, document_id: uuid.UUID) -> dict[str, Any]:
        return await self.request(
            {"type": "join_document", "document_id": str(document_id)}, "presence_list"
        )

    async def closed_with(self, within: float = WAIT) -> int | None:
        """Read until the server closes; the close code."""
        try:
            async with asyncio.timeout(within):
                async for _ in self.socket:
                    pass
        except websockets.ConnectionClosed:
            pass
        await asyncio.wait_for(self.socket.wait_closed(), within)
        received = self.socket.protocol.close_rcvd
        return None if received is None else received.code

    async def quiet(self, seconds: float) -> list[dict[str, Any]]:
        """Everything that arrives within `seconds` (to show what did NOT arrive)."""
        events: list[dict[str, Any]] = []
        try:
            while True:
                events.append(await self.next(seconds))
        except TimeoutError:
            return events

    async def close(self) -> None:
        await self.socket.close()


# -- an in-process server ---------------------------------------------------------------------


@dataclass
class LiveApp:
    """uvicorn serving a cowrite app in this event loop, configured like `cowrite serve`."""

    app: FastAPI
    port: int
    server: uvicorn.Server
    task: asyncio.Task[None]

    @property
    def state(self) -> AppState:
        state: AppState = self.app.state.cowrite
        return state

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @classmethod
    async def start(cls, app: FastAPI) -> LiveApp:
        port = free_port()
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            ws=Settings().uvicorn_ws,  # the transport `cowrite serve` uses
            ws_per_message_deflate=False,
            lifespan="on",
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve())
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("server stopped before it started")
            await asyncio.sleep(0.02)
        return cls(app, port, server, task)

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self.task, 20)
