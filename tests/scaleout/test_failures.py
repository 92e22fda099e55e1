"""Co-editing and presence across two real processes, and what happens when parts fail.

Two `cowrite serve` over one PostgreSQL database and a Redis the test starts, stops and breaks.
Each scenario is bounded by short timeouts from the cluster settings (presence 2 s, repair 0.5 s).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from cowrite.db import create_engine
from cowrite.models import YSnapshot
from tests.scaleout.conftest import Cluster, cluster_env, running_cluster
from tests.scaleout.scenes import Scene, make_scene
from tests.scaleout.wsclient import PresenceClient
from tests.scaleout.yclient import YClient
from tests.support.databases import TestDatabase
from tests.support.redis import RedisServer, eventually

pytestmark = [pytest.mark.redis, pytest.mark.parametrize("database", ["postgres"], indirect=True)]

__all__ = ["cluster_env"]


@pytest.fixture
async def scene(cluster: Cluster) -> Scene:
    return await make_scene(cluster.a)


async def type_words(client: YClient, prefix: str, count: int) -> list[str]:
    words = [f"<{prefix}{index}>" for index in range(count)]
    for word in words:
        await client.type(word)
        await asyncio.sleep(0.005)
    return words


async def converged(clients: list[YClient], words: list[str], within: float = 10.0) -> None:
    def done() -> bool:
        contents = {client.content for client in clients}
        return len(contents) == 1 and all(word in clients[0].content for word in words)

    await eventually(done, within=within)


async def test_yjs_clients_on_both_processes_converge_and_persist(
    cluster: Cluster, scene: Scene
) -> None:
    on_a = await YClient("a").connect(cluster.a.ws_url, scene.document_id, scene.owner.access_token)
    on_b = await YClient("b").connect(
        cluster.b.ws_url, scene.document_id, scene.editor.access_token
    )
    words_a, words_b = await asyncio.gather(type_words(on_a, "a", 20), type_words(on_b, "b", 20))
    await converged([on_a, on_b], words_a + words_b)
    await on_a.close()
    await on_b.close()
    # Each update was persisted (once, by the process that accepted it): a newcomer loads it all.
    late = await YClient("late").connect(
        cluster.b.ws_url, scene.document_id, scene.owner.access_token
    )
    assert late.content == on_a.content
    await late.close()


async def test_removing_a_member_on_one_process_closes_their_socket_on_the_other(
    cluster: Cluster, scene: Scene
) -> None:
    editor_on_b = await YClient("editor").connect(
        cluster.b.ws_url, scene.document_id, scene.editor.access_token
    )
    async with httpx.AsyncClient(base_url=cluster.a.base_url) as client:
        document = await client.get(
            f"/api/v1/documents/{scene.document_id}", headers=scene.owner.headers
        )
        workspace_id = document.json()["workspace_id"]
        removed = await client.delete(
            f"/api/v1/workspaces/{workspace_id}/members/{scene.editor.id}",
            headers=scene.owner.headers,
        )
        assert removed.status_code == 204
    await eventually(lambda: not editor_on_b.connected)
    assert editor_on_b.close_code == 4403
    await editor_on_b.close()


async def test_redis_outage_while_both_sides_edit(cluster: Cluster, scene: Scene) -> None:
    on_a = await YClient("a").connect(cluster.a.ws_url, scene.document_id, scene.owner.access_token)
    on_b = await YClient("b").connect(
        cluster.b.ws_url, scene.document_id, scene.editor.access_token
    )
    before = await type_words(on_a, "before", 3)
    await converged([on_a, on_b], before)

    cluster.redis.stop()
    words_a, words_b = await asyncio.gather(type_words(on_a, "a", 15), type_words(on_b, "b", 15))
    await asyncio.sleep(1.5)  # both sides keep editing through a few seconds of outage
    more_a = await type_words(on_a, "late-a", 3)
    cluster.redis.start()

    await converged([on_a, on_b], before + words_a + words_b + more_a, within=15)
    for server in cluster.servers:
        assert server.process is not None and server.process.poll() is None
    await on_a.close()
    await on_b.close()


async def test_sigkill_of_one_process_loses_no_one_and_nothing(
    cluster: Cluster, scene: Scene
) -> None:
    watcher_on_b = await PresenceClient("watcher").connect(
        cluster.b.ws_url, scene.editor.access_token
    )
    await watcher_on_b.join(scene.document_id)
    owner_on_a = await PresenceClient("owner").connect(cluster.a.ws_url, scene.owner.access_token)
    await owner_on_a.join(scene.document_id)
    await watcher_on_b.next_event(
        lambda event: (
            event["type"] == "user_joined"
            and event["user"]["connection_id"] == owner_on_a.connection_id
        )
    )
    writer = await YClient("writer").connect(
        cluster.a.ws_url, scene.document_id, scene.owner.access_token
    )
    reader = await YClient("reader").connect(
        cluster.b.ws_url, scene.document_id, scene.editor.access_token
    )
    words = await type_words(writer, "w", 20)

    cluster.a.kill()
    # Typed after the crash (the client does not know yet) and kept locally.
    words += await type_words(writer, "offline", 3)

    left = await watcher_on_b.next_event(
        lambda event: (
            event["type"] == "user_left" and event["connection_id"] == owner_on_a.connection_id
        ),
        within=8,
    )
    assert left["user_id"] == str(scene.owner.id)
    async with httpx.AsyncClient(base_url=cluster.b.base_url) as client:

        async def owner_gone() -> bool:
            rest = await client.get(
                f"/api/v1/presence/document/{scene.document_id}", headers=scene.editor.headers
            )
            return {u["user_id"] for u in rest.json()["users"]} == {str(scene.editor.id)}

        await eventually(owner_gone, within=8)

    await writer.connect(cluster.b.ws_url, scene.document_id, scene.owner.access_token)
    await converged([writer, reader], words)
    await writer.close()
    await reader.close()
    await watcher_on_b.close()
    await owner_on_a.close()
    # Whatever process A had accepted but not committed was saved by B: a new room has it all.
    fresh = await YClient("fresh").connect(
        cluster.b.ws_url, scene.document_id, scene.owner.access_token
    )
    await eventually(lambda: all(word in fresh.content for word in words), within=8)
    await fresh.close()


LOSSY = {
    # Half of what crosses between the processes is dropped on arrival.
    "half-lost": {"COWRITE_TEST_BROKER_DROP_RATE": "0.5"},
    # Nothing crosses by pub/sub, and the log is compacted every few rows: every update reaches
    # the other process from the database, across snapshot rewrites.
    "all-lost-compacting": {
        "COWRITE_TEST_BROKER_DROP_RATE": "1.0",
        "COWRITE_YJS_COMPACT_THRESHOLD": "5",
    },
}


@pytest.fixture(params=sorted(LOSSY))
def lossy_cluster(
    request: pytest.FixtureRequest,
    cluster_env: dict[str, str],
    redis_server: RedisServer,
    tmp_path: Path,
) -> Iterator[Cluster]:
    env = {**cluster_env, **LOSSY[request.param]}
    with running_cluster(env, redis_server, tmp_path) as started:
        yield started


async def compactions(db: TestDatabase, document_id: str) -> int:
    """The last log row merged into the document's snapshot (0 while never compacted)."""
    engine = create_engine(db.url)
    try:
        async with engine.connect() as connection:
            mark = await connection.execute(
                select(YSnapshot.last_update_id).where(
                    YSnapshot.document_id == uuid.UUID(document_id)
                )
            )
            return int(mark.scalar_one())
    finally:
        await engine.dispose()


async def test_lost_broker_messages_heal_within_the_repair_interval(
    lossy_cluster: Cluster, db: TestDatabase, request: pytest.FixtureRequest
) -> None:
    scene = await make_scene(lossy_cluster.a)
    on_a = await YClient("a").connect(
        lossy_cluster.a.ws_url, scene.document_id, scene.owner.access_token
    )
    on_b = await YClient("b").connect(
        lossy_cluster.b.ws_url, scene.document_id, scene.editor.access_token
    )
    words_a, words_b = await asyncio.gather(type_words(on_a, "a", 30), type_words(on_b, "b", 30))
    await converged([on_a, on_b], words_a + words_b, within=10)
    if "compacting" in request.node.callspec.id:
        assert await compactions(db, scene.document_id) > 0
    await on_a.close()
    await on_b.close()
