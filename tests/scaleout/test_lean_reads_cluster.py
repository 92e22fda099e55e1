"""A logout in one process ends the lean document reads of that login in the other at once."""

from __future__ import annotations

import httpx
import pytest

from cowrite.documents.lean import TEMPLATE
from tests.scaleout.conftest import Cluster
from tests.support.factories import make_user

pytestmark = [pytest.mark.redis, pytest.mark.parametrize("database", ["postgres"], indirect=True)]


async def lean_reads(client: httpx.AsyncClient) -> float:
    metrics = (await client.get("/metrics")).text
    label = f'cowrite_http_lean_requests_total{{route="{TEMPLATE}"}} '
    for line in metrics.splitlines():
        if line.startswith(label):
            return float(line[len(label) :])
    return 0.0


async def test_a_logout_elsewhere_ends_the_lean_reads_here(cluster: Cluster) -> None:
    async with (
        httpx.AsyncClient(base_url=cluster.a.base_url) as a,
        httpx.AsyncClient(base_url=cluster.b.base_url) as b,
    ):
        user = await make_user(a)
        workspace = await a.post("/api/v1/workspaces", json={"name": "W"}, headers=user.headers)
        assert workspace.status_code == 201, workspace.text
        created = await a.post(
            f"/api/v1/workspaces/{workspace.json()['id']}/documents",
            json={"title": "Plan", "content": "Hello"},
            headers=user.headers,
        )
        assert created.status_code == 201, created.text
        url = f"/api/v1/documents/{created.json()['id']}"

        # The first read makes the login known live in b; the next ones take the lean path.
        for _ in range(3):
            read = await b.get(url, headers=user.headers)
            assert read.status_code == 200 and read.json()["content"] == "Hello"
        assert await lean_reads(b) >= 2

        out = await a.post(
            "/api/v1/auth/logout", json={"refresh_token": user.refresh_token}, headers=user.headers
        )
        assert out.status_code == 204, out.text
        before = await lean_reads(b)
        ended = await b.get(url, headers=user.headers)
        assert ended.status_code == 401, ended.text
        assert ended.json()["code"] == "invalid_token"
        assert await lean_reads(b) == before
