"""`cowrite serve --workers N`: N processes on one port, and only with Redis."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.redis import RedisServer, eventually
from tests.support.server import ServerProcess, free_port, run_cli

pytestmark = pytest.mark.parametrize("database", ["postgres"], indirect=True)


def test_several_workers_without_redis_refuse_to_start(db: TestDatabase, tmp_path: Path) -> None:
    env = {**os.environ, **server_env(db, tmp_path / "data")}
    env.pop("COWRITE_REDIS_URL", None)
    command = ["serve", "--port", str(free_port()), "--workers", "2"]
    result = run_cli(command, cwd=tmp_path, env=env, timeout=60, inherit=False)
    assert result.returncode == 2
    assert "COWRITE_REDIS_URL" in result.stderr


@pytest.mark.redis
async def test_workers_share_one_port_and_redis(
    db: TestDatabase, redis_server: RedisServer, tmp_path: Path
) -> None:
    env = server_env(db, tmp_path / "data", COWRITE_REDIS_URL=redis_server.url)
    server = ServerProcess(env=env, workdir=tmp_path, workers=2).start()
    redis = Redis.from_url(redis_server.url)
    try:

        async def both_workers_subscribed() -> bool:
            counts = await redis.pubsub_numsub("cowrite:events")
            return int(counts[0][1]) == 2

        # Each worker process holds its own subscriber connection for cross-process events.
        await eventually(both_workers_subscribed, within=20)
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            for _ in range(10):
                ready = await client.get("/ready")
                assert ready.status_code == 200
                assert ready.json()["checks"]["redis"] == "ok"
    finally:
        await redis.aclose()
        server.stop()
