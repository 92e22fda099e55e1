"""Login throttling: 429 with Retry-After, scoped so nobody can lock a real user out."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.support.factories import PASSWORD, make_user, unique_email


def _client_from(app: FastAPI, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40001))
    return httpx.AsyncClient(transport=transport, base_url="http://cowrite.test")


async def test_failures_throttle_with_retry_after(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await make_user(client)
    limit = app.state.cowrite.settings.login_max_failures_per_account
    attacker = _client_from(app, "10.9.9.9")
    async with attacker:
        for _ in range(limit):
            response = await attacker.post(
                "/api/v1/auth/login", json={"email": user.email, "password": "wrong guess!"}
            )
            assert response.status_code == 401
        throttled = await attacker.post(
            "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
        )
        assert throttled.status_code == 429
        assert throttled.json()["code"] == "login_throttled"
        assert 0 < int(throttled.headers["Retry-After"]) <= 900

        # The same answer for an email nobody registered: throttling reveals nothing.
        for _ in range(limit):
            await attacker.post(
                "/api/v1/auth/login", json={"email": "ghost@example.com", "password": "wrong!!!"}
            )
        ghost = await attacker.post(
            "/api/v1/auth/login", json={"email": "ghost@example.com", "password": "wrong!!!"}
        )
        assert ghost.status_code == 429

    # The real user, from their own address, still gets in.
    ok = await client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert ok.status_code == 200


async def test_many_emails_from_one_address_throttle_the_address(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    limit = app.state.cowrite.settings.login_max_failures_per_address
    sprayer = _client_from(app, "10.8.8.8")
    async with sprayer:
        for _ in range(limit):
            response = await sprayer.post(
                "/api/v1/auth/login", json={"email": unique_email(), "password": "spray spray"}
            )
            assert response.status_code == 401
        blocked = await sprayer.post(
            "/api/v1/auth/login", json={"email": unique_email(), "password": "spray spray"}
        )
        assert blocked.status_code == 429
        assert "Retry-After" in blocked.headers
