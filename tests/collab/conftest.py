"""Co-editing services over the test database, several at once standing for several processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from cowrite.app import build_state
from cowrite.collab.service import CollabService
from tests.conftest import make_settings
from tests.support.databases import TestDatabase

ServiceFactory = Callable[..., Awaitable[CollabService]]


@pytest.fixture
async def collab(db: TestDatabase, tmp_path: Path) -> AsyncIterator[ServiceFactory]:
    """Make a started CollabService (its own engine, like its own process); closed at the end."""
    services: list[CollabService] = []

    async def make(**overrides: object) -> CollabService:
        values: dict[str, object] = {
            "yjs_room_grace_seconds": 0.05,
            "yjs_content_sync_seconds": 0.05,
            **overrides,
        }
        state = build_state(make_settings(db.url, tmp_path / "data", **values))
        service = CollabService(state)
        await service.start()
        state.collab = service
        services.append(service)
        return service

    yield make
    for service in services:
        await service.close()
        await service.state.engine.dispose()
