"""A live edit shows in the REST content at once: from the room where it is open, from the
update log in a process where it is not (the saved content follows only after a pause)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import server_env
from tests.scaleout.conftest import CLUSTER_SETTINGS, Cluster, running_cluster
from tests.scaleout.scenes import make_scene
from tests.scaleout.yclient import YClient
from tests.support.databases import TestDatabase
from tests.support.redis import RedisServer, eventually

pytestmark = pytest.mark.redis


@pytest.fixture
def slow_saving(db: TestDatabase, redis_server: RedisServer, tmp_path: Path) -> Iterator[Cluster]:
    """Two processes that save a room's content only a minute after an edit."""
    env = server_env(
        db,
        tmp_path / "data",
        COWRITE_REDIS_URL=redis_server.url,
        COWRITE_YJS_CONTENT_SYNC_SECONDS="60",
        **CLUSTER_SETTINGS,
    )
    with running_cluster(env, redis_server, tmp_path) as started:
        yield started


async def content(client: httpx.AsyncClient, document_id: str, headers: dict[str, str]) -> str:
    response = await client.get(f"/api/v1/documents/{document_id}", headers=headers)
    assert response.status_code == 200, response.text
    text: str = response.json()["content"]
    return text


@pytest.mark.parametrize("format_name", ["markdown", "rich"])
async def test_a_live_edit_is_read_back_over_rest_in_both_processes(
    slow_saving: Cluster, format_name: str
) -> None:
    scene = await make_scene(slow_saving.a, format_name)
    headers = scene.owner.headers
    writer = await YClient("writer", rich=format_name == "rich").connect(
        slow_saving.a.ws_url, scene.document_id, scene.owner.access_token
    )
    try:
        async with (
            httpx.AsyncClient(base_url=slow_saving.a.base_url) as a,
            httpx.AsyncClient(base_url=slow_saving.b.base_url) as b,
        ):
            for word in ("first ", "second ", "third"):
                await writer.type(word)
                expected = writer.content

                async def both_fresh(expected: str = expected) -> bool:
                    here = await content(a, scene.document_id, headers)
                    there = await content(b, scene.document_id, headers)
                    return here == expected and there == expected

                await eventually(both_fresh, within=10)
    finally:
        await writer.close()
