"""Bad input on `/ws`: an error frame or the contract's close code; the server and the other
people in the room never notice."""

from __future__ import annotations

import uuid

from tests.presence.conftest import Room, StartLive, seed_room
from tests.support.databases import TestDatabase
from tests.support.presence import LiveApp, WsClient, make_document


async def test_malformed_frames_get_errors_and_the_socket_stays_usable(
    live: LiveApp, room: Room, db: TestDatabase
) -> None:
    peer = await WsClient.open(live.ws_url, room.owner.access_token)
    await peer.join(room.document_id)
    client = await WsClient.open(live.ws_url, room.editor.access_token)
    await client.join(room.document_id)
    doc = str(room.document_id)

    def move(cursor: str) -> str:
        return f'{{"type": "cursor_move", "document_id": "{doc}", "cursor": {cursor}}}'

    bad: list[tuple[str | bytes, str]] = [
        ("not json at all", "invalid_json"),
        (b"\x00\x01binary", "invalid_message"),
        ("[1, 2, 3]", "invalid_message"),
        ('"just a string"', "invalid_message"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"no_type": true}', "invalid_message"),
        ('{"type": "cursor_move"}', "invalid_message"),
        ('{"type": "join_document", "document_id": "not-a-uuid"}', "invalid_message"),
        ('{"type": "join_document", "document_id": 42}', "invalid_message"),
        (move('{"line": -1, "column": 0}'), "invalid_message"),
        (move('{"line": 1e99, "column": 0}'), "invalid_message"),
        (move('{"line": 10000000000, "column": 0}'), "invalid_message"),
        (move('{"line": "3", "column": 0}'), "invalid_message"),
        (move('{"line": true, "column": 0}'), "invalid_message"),
        (
            f'{{"type": "selection_change", "document_id": "{doc}", "selection": {{"start": 1}}}}',
            "invalid_message",
        ),
        (f'{{"type": "selection_change", "document_id": "{doc}"}}', "invalid_message"),
        (f'{{"type": "typing", "document_id": "{doc}", "is_typing": "yes"}}', "invalid_message"),
        ('{"type": "hello", "batch": "please"}', "invalid_message"),
        ('{"type": "heartbeat", "id": {"nested": 1}}', "invalid_message"),
        (move('{"line": 1, "column": 1}').replace(doc, str(uuid.uuid4())), "not_joined"),
    ]
    for frame, code in bad:
        await client.send_raw(frame)
        error = await client.expect("error")
        assert error["code"] == code, (frame, error)
        assert error["message"]

    # An error answers the request it refers to.
    error = await client.request({"type": "nope"}, "heartbeat_ack")
    assert error["type"] == "error" and error["code"] == "unknown_type"

    # Still in the room, still heard by the peer, who saw none of the above.
    await client.send(
        {"type": "cursor_move", "document_id": doc, "cursor": {"line": 9, "column": 9}}
    )
    moved = await peer.expect("cursor_move", connection_id=client.connection_id)
    assert moved["cursor"] == {"line": 9, "column": 9}
    assert not [e for e in peer.frames if e["type"] == "error"]
    assert (await client.request({"type": "heartbeat"}, "heartbeat_ack"))["type"] == "heartbeat_ack"


async def test_unknown_hidden_and_trashed_documents_are_not_found(
    live: LiveApp, room: Room, db: TestDatabase
) -> None:
    client = await WsClient.open(live.ws_url, room.editor.access_token)
    other = await seed_room(db, live.base_url)  # a workspace the editor is not in
    trashed = await make_document(db.url, room.workspace_id, trashed=True)
    for document_id in (uuid.uuid4(), other.document_id, trashed):
        error = await client.join(document_id)
        assert error["type"] == "error"
        assert error["code"] == "not_found"
    listed = await client.join(room.document_id)
    assert listed["type"] == "presence_list"


async def test_many_joins_are_refused_past_the_limit(
    start_live: StartLive, db: TestDatabase
) -> None:
    live = await start_live(ws_max_documents_per_connection=3)
    room = await seed_room(db, live.base_url)
    documents = [await make_document(db.url, room.workspace_id, title=f"d{i}") for i in range(4)]
    client = await WsClient.open(live.ws_url, room.editor.access_token)
    for document_id in documents[:3]:
        assert (await client.join(document_id))["type"] == "presence_list"
    # Joining again is harmless (the list again), a fourth document is refused.
    assert (await client.join(documents[0]))["type"] == "presence_list"
    error = await client.join(documents[3])
    assert error["code"] == "too_many_documents"

    # Many joins of unknown documents: one error each, the socket stays usable ...
    fresh = await WsClient.open(live.ws_url, room.viewer.access_token)
    for _ in range(150):
        await fresh.send({"type": "join_document", "document_id": str(uuid.uuid4())})
    ack = await fresh.request({"type": "heartbeat"}, "heartbeat_ack")
    assert ack["type"] == "heartbeat_ack"
    errors = [e for e in fresh.frames if e["type"] == "error"]
    assert len(errors) == 150 and {e["code"] for e in errors} == {"not_found"}
    # ... and ten thousand of them run into the rate limit; the server carries on.
    flood = f'{{"type":"join_document","document_id":"{uuid.uuid4()}"}}'
    for _ in range(10_000):
        try:
            await client.send_raw(flood)
        except Exception:
            break
    assert await client.closed_with() == 1008
    assert (await fresh.request({"type": "heartbeat"}, "heartbeat_ack"))["type"] == "heartbeat_ack"


async def test_oversized_frame_closes_1009(live: LiveApp, room: Room) -> None:
    client = await WsClient.open(live.ws_url, room.editor.access_token)
    await client.send_raw('{"type":"heartbeat","pad":"' + "x" * (64 * 1024) + '"}')
    assert await client.closed_with() == 1009
    # The server is fine.
    again = await WsClient.open(live.ws_url, room.editor.access_token)
    assert (await again.request({"type": "heartbeat"}, "heartbeat_ack"))["type"] == "heartbeat_ack"


async def test_flooding_closes_1008(start_live: StartLive, db: TestDatabase) -> None:
    live = await start_live(ws_rate_burst=20, ws_rate_per_second=5)
    room = await seed_room(db, live.base_url)
    peer = await WsClient.open(live.ws_url, room.owner.access_token)
    await peer.join(room.document_id)
    flooder = await WsClient.open(live.ws_url, room.editor.access_token)
    await flooder.join(room.document_id)
    doc = str(room.document_id)
    for column in range(60):
        await flooder.send(
            {"type": "cursor_move", "document_id": doc, "cursor": {"line": 0, "column": column}}
        )
    assert await flooder.closed_with() == 1008
    await peer.expect("user_left", connection_id=flooder.connection_id)
    assert (await peer.request({"type": "heartbeat"}, "heartbeat_ack"))["type"] == "heartbeat_ack"


async def test_authentication_failures(start_live: StartLive, db: TestDatabase) -> None:
    live = await start_live(ws_auth_timeout_seconds=0.5, allowed_origins="https://app.example")
    room = await seed_room(db, live.base_url)

    silent = await WsClient.open(live.ws_url, expect_connected=False)
    assert await silent.closed_with() == 4408

    forged = await WsClient.open(live.ws_url, "not-a-token", expect_connected=False)
    assert await forged.closed_with() == 4401

    wrong_first = await WsClient.open(live.ws_url, expect_connected=False)
    await wrong_first.send({"type": "heartbeat"})
    assert await wrong_first.closed_with() == 4401

    framed_bad = await WsClient.open(live.ws_url, "bad", auth_frame=True, expect_connected=False)
    assert await framed_bad.closed_with() == 4401

    foreign = await WsClient.open(
        live.ws_url,
        room.editor.access_token,
        headers={"Origin": "https://evil.example"},
        expect_connected=False,
    )
    assert await foreign.closed_with() == 4403

    allowed = await WsClient.open(
        live.ws_url, room.editor.access_token, headers={"Origin": "https://app.example"}
    )
    assert allowed.connected["user_id"] == str(room.editor.id)
