from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from cowrite.app import create_app
from tests.conftest import make_settings, server_env
from tests.support.databases import TestDatabase
from tests.support.redis import RedisServer, redis_server
from tests.support.server import ServerProcess, start_together

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


@dataclass
class Cluster:
    """Two `cowrite serve` processes over one PostgreSQL database and the test's own Redis."""

    servers: list[ServerProcess]
    redis: RedisServer

    @property
    def a(self) -> ServerProcess:
        return self.servers[0]

    @property
    def b(self) -> ServerProcess:
        return self.servers[1]


# Short timeouts so that failures heal within a test's few seconds.
CLUSTER_SETTINGS = {
    "COWRITE_PRESENCE_TIMEOUT_SECONDS": "2",
    "COWRITE_YJS_REPAIR_INTERVAL_SECONDS": "0.5",
    "COWRITE_BROKER_PING_INTERVAL_SECONDS": "0.5",
    "COWRITE_BROKER_MAX_BACKOFF_SECONDS": "0.3",
}


@pytest.fixture
def cluster_env(db: TestDatabase, redis_server: RedisServer, tmp_path: Path) -> dict[str, str]:
    return server_env(db, tmp_path / "data", COWRITE_REDIS_URL=redis_server.url, **CLUSTER_SETTINGS)


@contextmanager
def running_cluster(
    env: dict[str, str], redis_server: RedisServer, tmp_path: Path, timeout: float = 120.0
) -> Iterator[Cluster]:
    """Two `cowrite serve` processes with `env`, started side by side, stopped on the way out."""
    servers = [ServerProcess(env=env, workdir=tmp_path) for _ in range(2)]
    try:
        start_together(servers, timeout=timeout)
        yield Cluster(servers, redis_server)
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def cluster(
    cluster_env: dict[str, str], redis_server: RedisServer, tmp_path: Path
) -> Iterator[Cluster]:
    with running_cluster(cluster_env, redis_server, tmp_path) as started:
        yield started
