"""Live delivery across two real `cowrite serve` processes sharing PostgreSQL and Redis: every
`/ws` connection of the recipient hears of a new notification and of the unread count, wherever
the change happened, joined to a document or not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import server_env
from tests.scaleout.conftest import CLUSTER_SETTINGS, Cluster, cluster
from tests.scaleout.scenes import Scene, make_scene
from tests.scaleout.wsclient import PresenceClient
from tests.scaleout.yclient import YClient
from tests.support.databases import TestDatabase
from tests.support.documents import list_on_document, restrict_document
from tests.support.redis import RedisServer, redis_server
from tests.support.workspaces import add_member, make_workspace

__all__ = ["cluster", "redis_server"]

pytestmark = [pytest.mark.redis, pytest.mark.parametrize("database", ["postgres"], indirect=True)]


@pytest.fixture
def cluster_env(db: TestDatabase, redis_server: RedisServer, tmp_path: Path) -> dict[str, str]:
    return server_env(
        db,
        tmp_path / "data",
        COWRITE_REDIS_URL=redis_server.url,
        COWRITE_YJS_CONTENT_SYNC_SECONDS="0.1",
        **CLUSTER_SETTINGS,
    )


@pytest.fixture
async def scene(cluster: Cluster) -> Scene:
    return await make_scene(cluster.a)


def is_kind(kind: str, workspace_id: str | None = None) -> Any:
    def matches(event: dict[str, Any]) -> bool:
        if event["type"] != "notification" or event["notification"]["kind"] != kind:
            return False
        return workspace_id is None or event["notification"]["workspace_id"] == workspace_id

    return matches


def count_is(count: int) -> Any:
    return lambda event: event["type"] == "unread_count" and event["count"] == count


async def test_every_tab_hears_across_processes(cluster: Cluster, scene: Scene) -> None:
    editor = scene.editor
    tabs = [
        await PresenceClient(f"tab{n}").connect(server.ws_url, editor.access_token)
        for n, server in enumerate([cluster.b, cluster.b, cluster.a])
    ]
    async with httpx.AsyncClient(base_url=cluster.a.base_url) as on_a:
        workspace = await make_workspace(on_a, scene.owner, name="Second team")
        await add_member(on_a, workspace["id"], scene.owner, editor, "admin")
        for tab in tabs:
            event = await tab.next_event(is_kind("added_to_workspace", workspace["id"]))
            notification = event["notification"]
            assert notification["actor"]["id"] == str(scene.owner.id)
            assert notification["title"] == "Second team"
        async with httpx.AsyncClient(base_url=cluster.b.base_url) as on_b:
            count = await on_b.get("/api/v1/notifications/unread-count", headers=editor.headers)
            unread = count.json()["count"]
            assert unread == 2  # added to the scene's workspace, then to this one
            for tab in tabs:
                await tab.next_event(count_is(unread))
            read = await on_b.post("/api/v1/notifications/read-all", headers=editor.headers)
            assert read.json() == {"updated": unread}
    for tab in tabs:  # reading on B zeroes the badge on both processes
        await tab.next_event(count_is(0))

    # Live co-editing on A, saved by its update log, reaches the follower's tabs on B too.
    async with httpx.AsyncClient(base_url=cluster.b.base_url) as on_b:
        follow = await on_b.put(
            f"/api/v1/documents/{scene.document_id}/subscription", headers=editor.headers
        )
        assert follow.json() == {"following": True}
    writer = await YClient("owner").connect(
        cluster.a.ws_url, scene.document_id, scene.owner.access_token
    )
    await writer.type("Typed live on the other process")
    for tab in tabs[:2]:
        event = await tab.next_event(is_kind("document_updated"))
        notification = event["notification"]
        assert notification["document_id"] == scene.document_id
        assert notification["actor"]["id"] == str(scene.owner.id)
        assert notification["title"] == "Across processes"
        await tab.next_event(count_is(1))
    await writer.close()
    for tab in tabs:
        await tab.close()


async def test_every_tab_hears_the_count_change_with_what_the_reader_may_see(
    cluster: Cluster, scene: Scene
) -> None:
    """Restricting a document, listing the reader on it again, trashing and restoring it change
    what they may see of their notifications: their tabs on both processes get the count again,
    though nothing was written for them (but the listing)."""
    editor = scene.editor
    tabs = [
        await PresenceClient(f"tab{n}").connect(server.ws_url, editor.access_token)
        for n, server in enumerate([cluster.a, cluster.b])
    ]
    async with httpx.AsyncClient(base_url=cluster.a.base_url) as on_a:
        mention = {"body": f"Over to you @[{editor.full_name}](user:{editor.id})"}
        posted = await on_a.post(
            f"/api/v1/documents/{scene.document_id}/comments",
            json=mention,
            headers=scene.owner.headers,
        )
        assert posted.status_code == 201, posted.text
        for tab in tabs:  # joining the workspace, and the mention
            await tab.next_event(count_is(2))

        await restrict_document(on_a, scene.owner, scene.document_id)
        for tab in tabs:
            await tab.next_event(count_is(1))
            tab.events.clear()  # what comes next must be new

        await list_on_document(on_a, scene.owner, scene.document_id, editor.email, "viewer")
        for tab in tabs:  # the mention is back, and the listing is news
            await tab.next_event(count_is(3))

        trashed = await on_a.delete(
            f"/api/v1/documents/{scene.document_id}", headers=scene.owner.headers
        )
        assert trashed.status_code == 204
        for tab in tabs:  # joining the workspace is all that is left to see
            await tab.next_event(count_is(1))
            tab.events.clear()

        restored = await on_a.post(
            f"/api/v1/documents/{scene.document_id}/restore", headers=scene.owner.headers
        )
        assert restored.status_code == 200, restored.text
        for tab in tabs:
            await tab.next_event(count_is(3))
    for tab in tabs:
        await tab.close()
