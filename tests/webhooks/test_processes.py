"""Two `cowrite serve` processes over one database: every event is delivered once, whichever
process queued it and whichever claims it."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.receiver import Receiver
from tests.support.redis import eventually
from tests.support.server import ServerProcess
from tests.support.workspaces import make_team

EVENTS = 40


@pytest.fixture
def servers(db: TestDatabase, tmp_path: Path) -> Iterator[list[ServerProcess]]:
    env = server_env(
        db,
        tmp_path / "data",
        COWRITE_WEBHOOKS_ALLOW_PRIVATE="true",
        COWRITE_WEBHOOKS_POLL_SECONDS="0.05",
    )
    started = [ServerProcess(env=env, workdir=tmp_path) for _ in range(2)]
    try:
        # Both start at once (start-up is the slow part), given time for a busy machine.
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda server: server.start(), started))
        yield started
    finally:
        for process in started:
            process.stop()


async def test_two_processes_deliver_each_event_once(
    servers: list[ServerProcess], receiver: Receiver
) -> None:
    first, second = (httpx.AsyncClient(base_url=server.base_url, timeout=30) for server in servers)
    async with first, second:
        team = await make_team(first)
        hook = await first.post(
            f"/api/v1/workspaces/{team.workspace_id}/webhooks",
            json={"url": receiver.url(), "events": ["document.created"]},
            headers=team.admin.headers,
        )
        assert hook.status_code == 201
        url = f"/api/v1/workspaces/{team.workspace_id}/documents"
        created = await asyncio.gather(
            *(
                (first if n % 2 else second).post(
                    url, json={"title": f"Doc {n}"}, headers=team.editor.headers
                )
                for n in range(EVENTS)
            )
        )
        assert all(response.status_code == 201 for response in created)
        await receiver.wait_count(EVENTS)

        async def all_delivered() -> bool:
            rows = (
                await second.get(
                    f"/api/v1/webhooks/{hook.json()['id']}/deliveries",
                    params={"limit": 200},
                    headers=team.admin.headers,
                )
            ).json()
            return len(rows) == EVENTS and all(row["status"] == "delivered" for row in rows)

        await eventually(all_delivered, within=20)
        seen = Counter(request.delivery_id for request in receiver.requests)
        assert len(seen) == EVENTS
        assert max(seen.values()) == 1
        titles = {request.json["data"]["title"] for request in receiver.requests}
        assert titles == {f"Doc {n}" for n in range(EVENTS)}
