"""Presence fixtures: in-process uvicorn servers (their state in reach) and seeded rooms."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from cowrite.app import build_state, create_app
from cowrite.broker.memory import MemoryBroker, MemoryBus
from tests.conftest import make_settings
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx, make_user
from tests.support.presence import LiveApp, make_document, make_workspace

StartLive = Callable[..., Awaitable[LiveApp]]


@pytest.fixture
async def start_live(db: TestDatabase, tmp_path: Path) -> AsyncIterator[StartLive]:
    """Start in-process servers over the test database; `bus=` joins several on one broker bus."""
    started: list[LiveApp] = []

    async def start(bus: MemoryBus | None = None, **overrides: object) -> LiveApp:
        settings = make_settings(db.url, tmp_path / "data", **overrides)
        state = build_state(settings)
        if bus is not None:
            state.broker = MemoryBroker(state.process_id, bus)
        live = await LiveApp.start(create_app(settings, state=state))
        started.append(live)
        return live

    yield start
    for live in reversed(started):
        if not live.task.done():
            await live.stop()


@pytest.fixture
async def live(start_live: StartLive) -> LiveApp:
    return await start_live(presence_typing_seconds=0.3)


@dataclass
class Room:
    """A workspace with one user per role, an outsider, and a document in it."""

    workspace_id: uuid.UUID
    document_id: uuid.UUID
    owner: UserCtx
    admin: UserCtx
    editor: UserCtx
    viewer: UserCtx
    outsider: UserCtx


async def seed_room(db: TestDatabase, base_url: str) -> Room:
    async with httpx.AsyncClient(base_url=base_url) as client:
        owner = await make_user(client, full_name="Olivia Owner")
        admin = await make_user(client, full_name="Adam Admin")
        editor = await make_user(client, full_name="Edith Editor")
        viewer = await make_user(client, full_name="Victor Viewer")
        outsider = await make_user(client, full_name="Oscar Outsider")
    workspace_id = await make_workspace(
        db.url, owner.id, [(admin.id, "admin"), (editor.id, "editor"), (viewer.id, "viewer")]
    )
    document_id = await make_document(db.url, workspace_id)
    return Room(workspace_id, document_id, owner, admin, editor, viewer, outsider)


@pytest.fixture
async def room(db: TestDatabase, live: LiveApp) -> Room:
    return await seed_room(db, live.base_url)
