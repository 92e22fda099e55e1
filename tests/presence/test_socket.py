"""`/ws` end to end over a real uvicorn server and real WebSocket clients."""

from __future__ import annotations

import httpx
import pytest

from tests.presence.conftest import Room, StartLive, seed_room
from tests.support.databases import TestDatabase
from tests.support.presence import LiveApp, WsClient


async def test_peers_see_each_other_join_move_and_leave(live: LiveApp, room: Room) -> None:
    editor = await WsClient.open(live.ws_url, room.editor.access_token)
    viewer = await WsClient.open(live.ws_url, room.viewer.access_token, auth_frame=True)
    assert editor.connected["user_id"] == str(room.editor.id)
    doc = str(room.document_id)

    first = await editor.join(room.document_id)
    assert first["type"] == "presence_list"
    assert [u["user_id"] for u in first["users"]] == [str(room.editor.id)]

    listed = await viewer.join(room.document_id)
    assert {u["user_id"] for u in listed["users"]} == {str(room.editor.id), str(room.viewer.id)}
    joined = await editor.expect("user_joined", document_id=doc)
    assert joined["user"]["user_id"] == str(room.viewer.id)
    assert joined["user"]["full_name"] == "Victor Viewer"
    assert joined["user"]["connection_id"] == viewer.connection_id
    assert joined["user"]["channel"] == "ws"

    who = {"user_id": str(room.viewer.id), "connection_id": viewer.connection_id}
    await viewer.send(
        {"type": "cursor_move", "document_id": doc, "cursor": {"line": 3, "column": 7}}
    )
    moved = await editor.expect("cursor_move", **who)
    assert moved["cursor"] == {"line": 3, "column": 7}
    assert moved["full_name"] == "Victor Viewer"

    selection = {"start": {"line": 1, "column": 0}, "end": {"line": 2, "column": 4}}
    await viewer.send({"type": "selection_change", "document_id": doc, "selection": selection})
    assert (await editor.expect("selection_change", **who))["selection"] == selection
    await viewer.send({"type": "editing_start", "document_id": doc})
    await editor.expect("editing_start", **who)

    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.get(f"/api/v1/presence/document/{doc}", headers=room.editor.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["document_id"] == doc
    mine = next(u for u in body["users"] if u["connection_id"] == viewer.connection_id)
    assert mine["cursor"] == {"line": 3, "column": 7}
    assert mine["selection"] == selection
    assert mine["is_editing"] is True
    assert mine["session_id"] == viewer.connected["session_id"]
    assert mine["channel"] == "ws"

    await viewer.send({"type": "editing_stop", "document_id": doc})
    await editor.expect("editing_stop", **who)
    await viewer.send({"type": "typing", "document_id": doc})
    assert (await editor.expect("typing", **who))["is_typing"] is True
    # Typing stops by itself (0.3 s in this server's settings).
    assert (await editor.expect("typing", **who))["is_typing"] is False

    ack = await viewer.request({"type": "heartbeat"}, "heartbeat_ack")
    assert ack["type"] == "heartbeat_ack"

    # Nobody hears their own events back.
    own = [e for e in await viewer.quiet(0.2) if e.get("connection_id") == viewer.connection_id]
    assert own == []

    left = await viewer.request({"type": "leave_document", "document_id": doc}, "left")
    assert left["type"] == "left"
    gone = await editor.expect("user_left", document_id=doc)
    assert gone == {
        "type": "user_left",
        "document_id": doc,
        "user_id": str(room.viewer.id),
        "connection_id": viewer.connection_id,
    }
    await viewer.close()
    await editor.close()


async def test_one_user_on_two_devices_is_two_connections(live: LiveApp, room: Room) -> None:
    watcher = await WsClient.open(live.ws_url, room.owner.access_token)
    await watcher.join(room.document_id)
    phone = await WsClient.open(
        live.ws_url,
        room.editor.access_token,
        headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148"},
    )
    laptop = await WsClient.open(
        live.ws_url,
        room.editor.access_token,
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0"},
    )
    await phone.join(room.document_id)
    listed = await laptop.join(room.document_id)
    mine = [u for u in listed["users"] if u["user_id"] == str(room.editor.id)]
    assert {u["connection_id"] for u in mine} == {phone.connection_id, laptop.connection_id}
    assert {u["device_type"] for u in mine} == {"mobile", "web"}

    state = live.state
    assert state.presence.manager.is_online(room.editor.id)
    assert len(state.presence.manager.user_connections(room.editor.id)) == 2

    await phone.close()
    left = await watcher.expect("user_left", connection_id=phone.connection_id)
    assert left["user_id"] == str(room.editor.id)
    # The laptop is still there, for the watcher and for the laptop itself.
    doc = str(room.document_id)
    await laptop.send(
        {"type": "cursor_move", "document_id": doc, "cursor": {"line": 0, "column": 1}}
    )
    await watcher.expect("cursor_move", connection_id=laptop.connection_id)
    assert state.presence.manager.is_online(room.editor.id)
    await laptop.close()
    await watcher.expect("user_left", connection_id=laptop.connection_id)
    await watcher.close()


async def test_batch_mode_groups_events_in_one_frame_per_tick(live: LiveApp, room: Room) -> None:
    batcher = await WsClient.open(live.ws_url, room.owner.access_token)
    hello = await batcher.request({"type": "hello", "batch": True}, "hello_ack")
    assert hello["batch"] is True
    await batcher.join(room.document_id)
    mover = await WsClient.open(live.ws_url, room.editor.access_token)
    await mover.join(room.document_id)
    await batcher.expect("user_joined")
    doc = str(room.document_id)
    for column in range(20):
        await mover.send(
            {"type": "cursor_move", "document_id": doc, "cursor": {"line": 1, "column": column}}
        )
    await mover.send({"type": "editing_start", "document_id": doc})
    await batcher.expect("editing_start", connection_id=mover.connection_id)
    batches = [f for f in batcher.frames if f["type"] == "batch"]
    assert batches, "events came one per frame"
    moves = [e for f in batches for e in f["events"] if e["type"] == "cursor_move"]
    # Intermediate positions within a tick are dropped; the latest one always arrives.
    assert moves[-1]["cursor"] == {"line": 1, "column": 19}
    assert len(moves) <= 20
    await mover.close()
    await batcher.close()


@pytest.mark.parametrize("quick_moves", [True, False], ids=["quick-moves", "read-loop"])
async def test_moves_sent_right_behind_a_join_wait_for_it(
    start_live: StartLive, db: TestDatabase, quick_moves: bool
) -> None:
    """Moves are handled as they are read only while the socket's reader is idle: moves that
    arrive while the join is still checking access wait behind it instead of being refused."""
    live = await start_live(ws_quick_moves=quick_moves)
    room = await seed_room(db, live.base_url)
    doc = str(room.document_id)
    peer = await WsClient.open(live.ws_url, room.owner.access_token)
    await peer.join(room.document_id)
    mover = await WsClient.open(live.ws_url, room.editor.access_token)
    await mover.send({"type": "join_document", "document_id": doc})
    for line in range(5):
        await mover.send(
            {"type": "cursor_move", "document_id": doc, "cursor": {"line": line, "column": 0}}
        )
    await mover.expect("presence_list")
    last = {"line": 4, "column": 0}
    await peer.expect("cursor_move", connection_id=mover.connection_id, cursor=last)
    # Once joined, moves keep arriving (taken as read when quick moves are on).
    await mover.send(
        {"type": "cursor_move", "document_id": doc, "cursor": {"line": 9, "column": 2}}
    )
    moved = await peer.expect("cursor_move", connection_id=mover.connection_id)
    assert moved["cursor"] == {"line": 9, "column": 2}
    assert [f for f in mover.frames if f["type"] == "error"] == []
    await mover.close()
    await peer.close()
