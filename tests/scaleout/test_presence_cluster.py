"""Presence across two real processes: one picture of who is where, and no ghosts of the dead."""

from __future__ import annotations

import httpx
import pytest

from tests.scaleout.conftest import Cluster
from tests.scaleout.scenes import Scene, make_scene
from tests.scaleout.wsclient import PresenceClient
from tests.support.redis import eventually

pytestmark = [pytest.mark.redis, pytest.mark.parametrize("database", ["postgres"], indirect=True)]


@pytest.fixture
async def scene(cluster: Cluster) -> Scene:
    return await make_scene(cluster.a)


async def listed_users(server_url: str, scene: Scene) -> set[str]:
    async with httpx.AsyncClient(base_url=server_url) as client:
        rest = await client.get(
            f"/api/v1/presence/document/{scene.document_id}", headers=scene.owner.headers
        )
        assert rest.status_code == 200
        return {user["user_id"] for user in rest.json()["users"]}


async def test_presence_shows_users_of_both_processes(cluster: Cluster, scene: Scene) -> None:
    owner_on_a = await PresenceClient("owner").connect(cluster.a.ws_url, scene.owner.access_token)
    await owner_on_a.join(scene.document_id)
    editor_on_b = await PresenceClient("editor").connect(
        cluster.b.ws_url, scene.editor.access_token
    )
    listing = await editor_on_b.join(scene.document_id)
    both = {str(scene.owner.id), str(scene.editor.id)}
    assert {user["user_id"] for user in listing["users"]} == both
    joined = await owner_on_a.next_event(lambda event: event["type"] == "user_joined")
    assert joined["user"]["user_id"] == str(scene.editor.id)
    for server in cluster.servers:
        assert await listed_users(server.base_url, scene) == both
    await owner_on_a.close()
    await editor_on_b.close()


async def test_cursor_moves_cross_processes(cluster: Cluster, scene: Scene) -> None:
    owner_on_a = await PresenceClient("owner").connect(cluster.a.ws_url, scene.owner.access_token)
    await owner_on_a.join(scene.document_id)
    editor_on_b = await PresenceClient("editor").connect(
        cluster.b.ws_url, scene.editor.access_token
    )
    await editor_on_b.join(scene.document_id)
    cursor = {"line": 4, "column": 2}
    await owner_on_a.send(
        {"type": "cursor_move", "document_id": scene.document_id, "cursor": cursor}
    )
    moved = await editor_on_b.next_event(lambda event: event["type"] == "cursor_move")
    assert moved["user_id"] == str(scene.owner.id)
    assert moved["cursor"] == cursor
    await owner_on_a.close()
    await editor_on_b.close()


async def test_users_of_a_killed_process_vanish_everywhere(cluster: Cluster, scene: Scene) -> None:
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

    cluster.a.kill()
    # Within the presence timeout (2 s here) the watcher hears that the owner left ...
    left = await watcher_on_b.next_event(
        lambda event: (
            event["type"] == "user_left" and event["connection_id"] == owner_on_a.connection_id
        ),
        within=8,
    )
    assert left["user_id"] == str(scene.owner.id)

    # ... and the survivor lists only its own users.
    listings: list[set[str]] = []

    async def owner_gone() -> bool:
        listings.append(await listed_users(cluster.b.base_url, scene))
        return listings[-1] == {str(scene.editor.id)}

    try:
        await eventually(owner_gone, within=8)
    except AssertionError as exc:  # say which: the dead owner still there, or the watcher gone
        who = {str(scene.owner.id): "owner", str(scene.editor.id): "editor"}
        last = sorted(who.get(user, user) for user in listings[-1])
        raise AssertionError(f"after {len(listings)} listings the survivor lists {last}") from exc
    await watcher_on_b.close()
    await owner_on_a.close()
