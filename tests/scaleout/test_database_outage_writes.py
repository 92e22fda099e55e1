"""PostgreSQL goes away for five seconds under a create load: requests fail fast with a clear
503, none hangs, and every create that answered 201 is there afterwards."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.factories import make_user
from tests.support.proxy import CuttableProxy
from tests.support.server import ServerProcess
from tests.support.workspaces import make_workspace

pytestmark = pytest.mark.parametrize("database", ["postgres"], indirect=True)

WRITERS = 8
OUTAGE_SECONDS = 5.0


@pytest.fixture
def behind_proxy(db: TestDatabase, tmp_path: Path) -> Iterator[tuple[ServerProcess, CuttableProxy]]:
    url = make_url(db.url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432).start()
    through_proxy = url.set(port=proxy.port).render_as_string(hide_password=False)
    env = server_env(db, tmp_path / "data", COWRITE_DATABASE_URL=through_proxy)
    server = ServerProcess(env=env, workdir=tmp_path)
    try:
        server.start()
        yield server, proxy
    finally:
        server.stop()
        proxy.close()


async def test_creates_during_an_outage_fail_clearly_and_lose_nothing(
    behind_proxy: tuple[ServerProcess, CuttableProxy],
) -> None:
    server, proxy = behind_proxy
    limits = httpx.Limits(max_connections=WRITERS)
    # A request that hangs fails the test through this timeout.
    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=30) as client:
        owner = await make_user(client)
        workspace = await make_workspace(client, owner)
        path = f"/api/v1/workspaces/{workspace['id']}/documents"
        answers: list[httpx.Response] = []
        phase = {"name": "before"}
        after_outage: list[int] = []
        stop = asyncio.Event()
        resumed = asyncio.Event()  # every writer had a create through after the outage

        async def writer(index: int) -> None:
            count = 0
            while not stop.is_set():
                count += 1
                answer = await client.post(
                    path,
                    json={"title": f"w{index}-{count}", "content": "text"},
                    headers=owner.headers,
                )
                answers.append(answer)
                if phase["name"] == "after":
                    after_outage.append(answer.status_code)
                    if after_outage.count(201) >= WRITERS:
                        resumed.set()

        writers = [asyncio.create_task(writer(i)) for i in range(WRITERS)]
        try:
            await asyncio.sleep(0.5)
            proxy.cut()
            phase["name"] = "outage"
            await asyncio.sleep(OUTAGE_SECONDS)
            proxy.restore()
            phase["name"] = "after"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(resumed.wait(), 30)
        finally:
            stop.set()
            await asyncio.gather(*writers)

        statuses = {answer.status_code for answer in answers}
        assert statuses <= {201, 503}, statuses
        refused = [answer for answer in answers if answer.status_code == 503]
        assert refused, "the outage was not noticed"
        assert {answer.json()["code"] for answer in refused} == {"database_unavailable"}
        assert after_outage.count(201) >= WRITERS, "creates did not resume"

        created = {answer.json()["id"] for answer in answers if answer.status_code == 201}
        for document_id in created:
            found = await client.get(f"/api/v1/documents/{document_id}", headers=owner.headers)
            assert found.status_code == 200, found.text
