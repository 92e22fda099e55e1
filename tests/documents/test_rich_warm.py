"""Rich documents written over REST with no room open stay loaded in the process that wrote
them; a later write there still starts from everything stored, written by any process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.scaleout.conftest import Cluster, cluster_env, running_cluster
from tests.support.factories import make_user
from tests.support.redis import RedisServer, redis_server
from tests.support.workspaces import add_member, make_workspace

__all__ = ["cluster_env", "redis_server"]


@pytest.fixture
def cluster(
    cluster_env: dict[str, str], redis_server: RedisServer, tmp_path: Path
) -> Iterator[Cluster]:
    """Two processes, as tests/scaleout's, given longer to start on a busy machine."""
    with running_cluster(cluster_env, redis_server, tmp_path, timeout=120) as started:
        yield started


@pytest.mark.redis
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_writes_through_two_processes_each_start_from_the_other(cluster: Cluster) -> None:
    async with (
        httpx.AsyncClient(base_url=cluster.a.base_url, timeout=30) as a,
        httpx.AsyncClient(base_url=cluster.b.base_url, timeout=30) as b,
    ):
        owner, editor = await make_user(a), await make_user(a)
        workspace = await make_workspace(a, owner)
        await add_member(a, workspace["id"], owner, editor, "editor")
        created = await a.post(
            f"/api/v1/workspaces/{workspace['id']}/documents",
            json={"title": "Plan", "content": "# Plan\n\nOne.\n", "format": "rich"},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        url = f"/api/v1/documents/{created.json()['id']}"

        async def write(client: httpx.AsyncClient, who: object, content: str) -> str:
            response = await client.patch(url, json={"content": content}, headers=who.headers)  # type: ignore[attr-defined]
            assert response.status_code == 200, response.text
            answer: str = response.json()["content"].strip()
            return answer

        # A keeps the document after its write; B writes; A's next write (from what A's
        # writer read before B's) keeps B's paragraph and adds its own.
        first = await write(a, owner, "# Plan\n\nOne.\n\nTwo from A.\n")
        assert first == "# Plan\n\nOne.\n\nTwo from A."
        second = await write(b, editor, "# Plan\n\nOne.\n\nTwo from A.\n\nThree from B.\n")
        assert "Three from B." in second
        third = await write(a, owner, "# **Plan**\n\nOne.\n\nTwo from A.\n\nThree from B.\n")
        assert third == "# **Plan**\n\nOne.\n\nTwo from A.\n\nThree from B."
        for client in (a, b):
            stored = await client.get(url, headers=owner.headers)
            assert stored.json()["content"].strip() == third
        # Again on A, then read as JSON from B: the same document everywhere.
        fourth = await write(a, owner, third + "\n\nFour.\n")
        as_json = await b.get(url, params={"as": "json"}, headers=owner.headers)
        assert as_json.status_code == 200, as_json.text
        texts = [
            node["content"][0]["text"] for node in as_json.json()["content_json"]["content"][1:]
        ]
        assert texts == ["One.", "Two from A.", "Three from B.", "Four."], (fourth, texts)
