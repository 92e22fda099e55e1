"""Many clients creating documents at once: every request answers 201, every document is there."""

from __future__ import annotations

import asyncio

import httpx

from tests.support.factories import make_user
from tests.support.server import ServerProcess
from tests.support.workspaces import make_workspace

CLIENTS = 32
ROUNDS = 3


async def test_32_concurrent_creates_all_succeed(server: ServerProcess) -> None:
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60) as client:
        owner = await make_user(client)
        workspace = await make_workspace(client, owner)
        path = f"/api/v1/workspaces/{workspace['id']}/documents"
        body = "A paragraph that every one of the writers sends at the same moment. " * 30

        async def create(index: int) -> httpx.Response:
            return await client.post(
                path,
                json={"title": f"doc {index}", "content": body, "tags": ["load"]},
                headers=owner.headers,
            )

        answers: list[httpx.Response] = []
        for round_ in range(ROUNDS):
            answers += await asyncio.gather(*(create(round_ * CLIENTS + i) for i in range(CLIENTS)))
        failed = [(r.status_code, r.text[:200]) for r in answers if r.status_code != 201]
        assert failed == []

        created = {r.json()["id"] for r in answers}
        listed: set[str] = set()
        cursor: str | None = None
        while True:
            params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
            page = await client.get(path, params=params, headers=owner.headers)
            assert page.status_code == 200, page.text
            listed |= {item["id"] for item in page.json()["items"]}
            cursor = page.json().get("next_cursor")
            if not cursor:
                break
        assert created <= listed and len(created) == CLIENTS * ROUNDS
