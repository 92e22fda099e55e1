"""Each process remembers recently checked logins; a logout still ends them everywhere at once."""

from __future__ import annotations

import httpx
import pytest

from tests.scaleout.conftest import Cluster
from tests.support.factories import login, make_user

pytestmark = [pytest.mark.redis, pytest.mark.parametrize("database", ["postgres"], indirect=True)]


async def test_a_logout_in_one_process_ends_the_token_in_the_other(cluster: Cluster) -> None:
    async with (
        httpx.AsyncClient(base_url=cluster.a.base_url) as a,
        httpx.AsyncClient(base_url=cluster.b.base_url) as b,
    ):
        user = await make_user(a)
        # Both processes have just seen the login live (and remember it).
        for client in (a, b, b):
            assert (await client.get("/api/v1/users/me", headers=user.headers)).status_code == 200

        out = await a.post(
            "/api/v1/auth/logout", json={"refresh_token": user.refresh_token}, headers=user.headers
        )
        assert out.status_code == 204, out.text

        for client in (b, a):
            gone = await client.get("/api/v1/users/me", headers=user.headers)
            assert gone.status_code == 401, gone.text
            assert gone.json()["code"] == "invalid_token"


async def test_a_revoked_session_ends_in_the_other_process(cluster: Cluster) -> None:
    async with (
        httpx.AsyncClient(base_url=cluster.a.base_url) as a,
        httpx.AsyncClient(base_url=cluster.b.base_url) as b,
    ):
        user = await make_user(a)
        tokens = await login(a, user.email)
        second = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert (await b.get("/api/v1/users/me", headers=second)).status_code == 200

        sessions = (await a.get("/api/v1/users/me/sessions", headers=user.headers)).json()
        others = [login["id"] for login in sessions["logins"] if not login["current"]]
        assert len(others) == 1
        revoked = await a.delete(f"/api/v1/users/me/sessions/{others[0]}", headers=user.headers)
        assert revoked.status_code == 204, revoked.text

        assert (await b.get("/api/v1/users/me", headers=second)).status_code == 401
        assert (await b.get("/api/v1/users/me", headers=user.headers)).status_code == 200
