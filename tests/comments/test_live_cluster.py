"""Comment events on `/ws` across two real processes sharing Redis and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.scaleout.conftest import Cluster, cluster, cluster_env
from tests.scaleout.scenes import make_scene
from tests.scaleout.wsclient import PresenceClient
from tests.support.redis import redis_server

__all__ = ["cluster", "cluster_env", "redis_server"]


@pytest.mark.redis
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_comment_events_reach_sockets_on_another_process(cluster: Cluster) -> None:
    scene = await make_scene(cluster.a)
    watcher = await PresenceClient("owner").connect(cluster.a.ws_url, scene.owner.access_token)
    await watcher.join(scene.document_id)

    async def next_of(kind: str) -> dict[str, Any]:
        event = await watcher.next_event(lambda e: e["type"] == kind)
        assert event["document_id"] == scene.document_id
        return event["comment"]

    headers = scene.editor.headers
    async with httpx.AsyncClient(base_url=cluster.b.base_url, timeout=30) as b:
        made = await b.post(
            f"/api/v1/documents/{scene.document_id}/comments",
            json={"body": "From B"},
            headers=headers,
        )
        assert made.status_code == 201, made.text
        comment_id = made.json()["id"]
        assert (await next_of("comment_created"))["body"] == "From B"
        url = f"/api/v1/comments/{comment_id}"
        await b.patch(url, json={"body": "Edited on B"}, headers=headers)
        assert (await next_of("comment_updated"))["body"] == "Edited on B"
        await b.post(f"{url}/resolve", headers=headers)
        assert (await next_of("thread_resolved"))["resolved_at"] is not None
        await b.post(f"{url}/reopen", headers=headers)
        assert (await next_of("thread_reopened"))["resolved_at"] is None
        await b.put(f"{url}/reactions/🎉", headers=headers)
        assert (await next_of("reaction_changed"))["reactions"][0]["emoji"] == "🎉"
        await b.delete(url, headers=headers)
        gone = await next_of("comment_deleted")
        assert gone["id"] == comment_id and gone["deleted_at"] is not None
    await watcher.close()
