"""Two real server processes over one PostgreSQL database and a Redis the test controls."""

from __future__ import annotations

import httpx
import pytest

from cowrite.config import Settings
from tests.scaleout.conftest import Cluster
from tests.support.factories import PASSWORD, make_user
from tests.support.redis import eventually

pytestmark = [pytest.mark.redis, pytest.mark.parametrize("database", ["postgres"], indirect=True)]


async def test_login_throttle_spans_processes(cluster: Cluster) -> None:
    async with (
        httpx.AsyncClient(base_url=cluster.a.base_url) as a,
        httpx.AsyncClient(base_url=cluster.b.base_url) as b,
    ):
        user = await make_user(a)
        wrong = {"email": user.email, "password": "not the password"}
        limit = Settings.model_fields["login_max_failures_per_account"].default
        for index in range(limit):
            client = a if index % 2 else b
            assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
        for client in (a, b):
            right = {"email": user.email, "password": PASSWORD}
            assert (await client.post("/api/v1/auth/login", json=right)).status_code == 429


async def test_a_redis_outage_degrades_readiness_only(cluster: Cluster) -> None:
    async with (
        httpx.AsyncClient(base_url=cluster.a.base_url) as a,
        httpx.AsyncClient(base_url=cluster.b.base_url) as b,
    ):
        cluster.redis.stop()

        async def both_unready() -> bool:
            statuses = [(await c.get("/ready")).status_code for c in (a, b)]
            return statuses == [503, 503]

        await eventually(both_unready)
        # Each process keeps serving its own clients meanwhile.
        user = await make_user(b)
        me = await a.get("/api/v1/users/me", headers=user.headers)
        assert me.status_code == 200

        cluster.redis.start()

        async def both_ready() -> bool:
            statuses = [(await c.get("/ready")).status_code for c in (a, b)]
            return statuses == [200, 200]

        await eventually(both_ready)
    for server in cluster.servers:
        assert server.process is not None and server.process.poll() is None
