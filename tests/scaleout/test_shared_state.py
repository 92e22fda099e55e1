"""With Redis configured, processes share login throttling, events and readiness."""

from __future__ import annotations

import asyncio

import pytest

from cowrite.kit.events import LoginsRevoked
from tests.scaleout.conftest import AppStarter
from tests.support.factories import PASSWORD, make_user
from tests.support.redis import RedisServer, eventually

pytestmark = pytest.mark.redis


async def test_login_throttle_is_shared_between_processes(redis_apps: AppStarter) -> None:
    app_a, attacker_on_a = await redis_apps(address="10.7.7.7")
    _, attacker_on_b = await redis_apps(address="10.7.7.7")
    _, owner_client = await redis_apps()
    user = await make_user(owner_client)
    limit = app_a.state.cowrite.settings.login_max_failures_per_account
    wrong = {"email": user.email, "password": "not the password"}

    for index in range(limit):
        client = attacker_on_a if index % 2 else attacker_on_b
        assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    for client in (attacker_on_a, attacker_on_b):
        throttled = await client.post(
            "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
        )
        assert throttled.status_code == 429
        assert 0 < int(throttled.headers["Retry-After"]) <= 900
    # The owner, from their own address, still signs in on any process.
    ok = await owner_client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert ok.status_code == 200


async def test_logins_work_while_redis_is_down(
    redis_apps: AppStarter, redis_server: RedisServer
) -> None:
    _, client = await redis_apps()
    user = await make_user(client)
    redis_server.stop()
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": "not the password"}
    )
    assert wrong.status_code == 401
    ok = await client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert ok.status_code == 200


async def test_ready_reports_redis(redis_apps: AppStarter, redis_server: RedisServer) -> None:
    app, client = await redis_apps()
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}

    redis_server.stop()
    await eventually(lambda: not app.state.cowrite.broker.connected)
    down = await client.get("/ready")
    assert down.status_code == 503
    assert down.json()["checks"]["redis"] == "unavailable"
    assert (await client.get("/health")).status_code == 200

    redis_server.start()
    await eventually(lambda: app.state.cowrite.broker.connected)
    again = await client.get("/ready")
    assert again.status_code == 200, again.text


async def test_revocation_reaches_the_other_process(redis_apps: AppStarter) -> None:
    _, client_a = await redis_apps()
    app_b, _ = await redis_apps()
    seen: asyncio.Queue[LoginsRevoked] = asyncio.Queue()
    app_b.state.cowrite.events.subscribe(LoginsRevoked, seen.put_nowait)
    user = await make_user(client_a)
    login = await client_a.post(
        "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    tokens = login.json()
    logout = await client_a.post(
        "/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}
    )
    assert logout.status_code == 204
    event = await asyncio.wait_for(seen.get(), 5)
    assert event.user_id == user.id
    assert len(event.login_ids) == 1
