from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from cowrite.app import create_app
from tests.conftest import make_settings
from tests.support.databases import TestDatabase
from tests.support.redis import RedisServer, redis_server

__all__ = ["redis_server"]

RunningApp = tuple[FastAPI, httpx.AsyncClient]
AppStarter = Callable[..., Awaitable[RunningApp]]


@pytest.fixture
async def redis_apps(
    db: TestDatabase, redis_server: RedisServer, tmp_path: Path
) -> AsyncIterator[AppStarter]:
    """Starts in-process apps (each its own 'process') over the test database and private Redis."""
    async with AsyncExitStack() as stack:

        async def start(address: str = "127.0.0.1", **overrides: object) -> RunningApp:
            settings = make_settings(
                db.url, tmp_path / "data", redis_url=redis_server.url, **overrides
            )
            app = create_app(settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            client = httpx.AsyncClient(transport=transport, base_url="http://cowrite.test")
            await stack.enter_async_context(client)
            return app, client

        yield start
