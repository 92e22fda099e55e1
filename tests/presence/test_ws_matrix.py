"""Who may join a document room over `/ws`: every role of its workspace, nobody else."""

from __future__ import annotations

import pytest

from tests.presence.conftest import Room, seed_room
from tests.support.databases import TestDatabase
from tests.support.presence import LiveApp, WsClient

MEMBERS = ["owner", "admin", "editor", "viewer"]


@pytest.mark.parametrize("role", MEMBERS)
async def test_every_member_role_may_join(live: LiveApp, room: Room, role: str) -> None:
    member = getattr(room, role)
    client = await WsClient.open(live.ws_url, member.access_token)
    listed = await client.join(room.document_id)
    assert listed["type"] == "presence_list"
    assert [u["user_id"] for u in listed["users"]] == [str(member.id)]
    doc = str(room.document_id)
    await client.send(
        {"type": "cursor_move", "document_id": doc, "cursor": {"line": 0, "column": 0}}
    )
    assert (await client.request({"type": "heartbeat"}, "heartbeat_ack"))["type"] == "heartbeat_ack"
    assert not [f for f in client.frames if f["type"] == "error"]


@pytest.mark.parametrize("who", ["outsider", "other_workspace_member"])
async def test_others_learn_nothing(live: LiveApp, room: Room, db: TestDatabase, who: str) -> None:
    # The other: an owner of another workspace, using this workspace's document id.
    other = room.outsider if who == "outsider" else (await seed_room(db, live.base_url)).owner
    caller = other
    watcher = await WsClient.open(live.ws_url, room.owner.access_token)
    await watcher.join(room.document_id)
    client = await WsClient.open(live.ws_url, caller.access_token)
    error = await client.join(room.document_id)
    assert error["type"] == "error" and error["code"] == "not_found"
    # Not joined, so nothing it sends reaches the room, and nothing of the room reaches it.
    doc = str(room.document_id)
    await client.send(
        {"type": "cursor_move", "document_id": doc, "cursor": {"line": 1, "column": 1}}
    )
    assert (await client.expect("error"))["code"] == "not_joined"
    await watcher.send({"type": "editing_start", "document_id": doc})
    assert [e for e in await watcher.quiet(0.2) if e["type"] != "heartbeat_ack"] == []
    assert [e["type"] for e in await client.quiet(0.2)] == []


async def test_anonymous_is_refused(live: LiveApp) -> None:
    client = await WsClient.open(live.ws_url, expect_connected=False)
    await client.send(
        {"type": "join_document", "document_id": "00000000-0000-0000-0000-000000000000"}
    )
    assert await client.closed_with() == 4401
