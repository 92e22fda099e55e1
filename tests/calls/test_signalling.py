"""Call signalling on `/ws` through a real server: who hears what, and who may not."""

from __future__ import annotations

import uuid

import httpx

from tests.calls.conftest import Room
from tests.calls.support import frames_until_pong, in_document, join_call, signal
from tests.presence.conftest import StartLive, seed_room
from tests.support.databases import TestDatabase
from tests.support.presence import LiveApp, WsClient, make_document

OFFER = {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n"}


async def test_a_signal_reaches_only_the_addressed_participant(live: LiveApp, room: Room) -> None:
    doc = room.document_id
    owner = await in_document(live.ws_url, room.owner.access_token, doc)
    editor = await in_document(live.ws_url, room.editor.access_token, doc)
    viewer = await in_document(live.ws_url, room.viewer.access_token, doc)

    state = await join_call(owner, doc)
    assert [p["connection_id"] for p in state["participants"]] == [owner.connection_id]
    state = await join_call(editor, doc, {"audio": True, "video": False, "screen": False})
    assert {p["connection_id"] for p in state["participants"]} == {
        owner.connection_id,
        editor.connection_id,
    }
    joined = await owner.expect("call_joined", connection_id=editor.connection_id)
    assert joined["full_name"] == "Edith Editor" and joined["media"]["video"] is False
    # Everyone in the document sees who is in the call (the avatars show it).
    await viewer.expect("call_joined", connection_id=editor.connection_id)

    # The client's own `from` is not believed: the server stamps the sender.
    await signal(owner, doc, editor.connection_id, OFFER, **{"from": viewer.connection_id})
    got = await editor.expect("rtc_signal")
    assert got["from"] == owner.connection_id
    assert got["from_user_id"] == str(room.owner.id)
    assert got["signal"] == OFFER and got["document_id"] == str(doc)
    answer = {"type": "answer", "sdp": "v=0\r\n"}
    await signal(editor, doc, owner.connection_id, answer)
    assert (await owner.expect("rtc_signal"))["signal"] == answer
    candidate = {
        "type": "candidate",
        "candidate": {"candidate": "candidate:1 1 udp 1 h 9 typ host"},
    }
    await signal(owner, doc, editor.connection_id, candidate)
    assert (await editor.expect("rtc_signal"))["signal"] == candidate

    # The member outside the call heard none of it; neither did the sender itself.
    assert not [e for e in await frames_until_pong(viewer) if e["type"] == "rtc_signal"]
    assert not [e for e in await frames_until_pong(owner) if e["type"] == "rtc_signal"]

    # An outsider cannot reach the call at all.
    outsider = await in_document_or_error(live, room)
    assert outsider == "not_found"
    for client in (owner, editor, viewer):
        await client.close()


async def in_document_or_error(live: LiveApp, room: Room) -> str:
    client = await WsClient.open(live.ws_url, room.outsider.access_token)
    answer = await join_call(client, room.document_id)
    await client.close()
    return str(answer.get("code"))


async def test_call_state_shows_in_presence_and_media_changes_reach_peers(
    live: LiveApp, room: Room
) -> None:
    doc = room.document_id
    owner = await in_document(live.ws_url, room.owner.access_token, doc)
    viewer = await in_document(live.ws_url, room.viewer.access_token, doc)
    await join_call(owner, doc)
    await join_call(viewer, doc, {"audio": False, "video": False, "screen": False})

    screen = {"audio": True, "video": False, "screen": True}
    changed = await owner.request(
        {"type": "call_media", "document_id": str(doc), "media": screen}, "call_media"
    )
    assert changed["media"] == screen
    seen = await viewer.expect("call_media", connection_id=owner.connection_id)
    assert seen["media"] == screen

    async with httpx.AsyncClient(base_url=live.base_url) as http:
        listed = await http.get(f"/api/v1/presence/document/{doc}", headers=room.editor.headers)
    assert listed.status_code == 200
    calls = {u["connection_id"]: u["call"] for u in listed.json()["users"]}
    assert calls[owner.connection_id] == screen
    assert calls[viewer.connection_id] == {"audio": False, "video": False, "screen": False}

    left = await owner.request({"type": "call_leave", "document_id": str(doc)}, "call_left")
    assert left["connection_id"] == owner.connection_id
    await viewer.expect("call_left", connection_id=owner.connection_id)
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        listed = await http.get(f"/api/v1/presence/document/{doc}", headers=room.owner.headers)
    calls = {u["connection_id"]: u["call"] for u in listed.json()["users"]}
    assert calls[owner.connection_id] is None
    await owner.close()
    await viewer.close()


async def test_bad_signals_are_refused_and_the_socket_stays_usable(
    live: LiveApp, room: Room, db: TestDatabase
) -> None:
    doc = room.document_id
    other_doc = await make_document(db.url, room.workspace_id, title="Elsewhere")
    owner = await in_document(live.ws_url, room.owner.access_token, doc)
    editor = await in_document(live.ws_url, room.editor.access_token, doc)
    viewer = await in_document(live.ws_url, room.viewer.access_token, doc)
    await join_call(owner, doc)
    await join_call(editor, doc)
    await editor.join(other_doc)

    async def refused(message: dict[str, object]) -> str:
        answer = await owner.request(message, "never")
        assert answer["type"] == "error", answer
        return str(answer["code"])

    base = {"type": "rtc_signal", "document_id": str(doc)}
    # To a member of the document who is not in the call.
    assert await refused({**base, "to": viewer.connection_id, "signal": OFFER}) == "not_in_call"
    # To a connection that does not exist.
    assert await refused({**base, "to": str(uuid.uuid4()), "signal": OFFER}) == "not_in_call"
    # To a participant, but naming another document (the sender is not in that call).
    other = {**base, "document_id": str(other_doc), "to": editor.connection_id, "signal": OFFER}
    assert await refused(other) == "not_in_call"
    assert await refused({**base, "signal": OFFER}) == "invalid_message"  # no `to`
    unknown = {"type": "rollback", "sdp": "x"}
    assert await refused({**base, "to": editor.connection_id, "signal": unknown}) == (
        "invalid_message"
    )
    huge = {"type": "offer", "sdp": "a=" + "x" * (64 * 1024)}
    assert await refused({**base, "to": editor.connection_id, "signal": huge}) == "too_big"
    bad_media = {"type": "call_media", "document_id": str(doc), "media": {"audio": "yes"}}
    assert await refused(bad_media) == "invalid_message"
    bad_join = {"type": "call_join", "document_id": str(doc), "media": [1]}
    assert await refused(bad_join) == "invalid_message"

    # Nothing leaked to the addressed participant, and the socket still works.
    assert not [e for e in await frames_until_pong(editor) if e["type"] == "rtc_signal"]
    await signal(owner, doc, editor.connection_id, OFFER)
    assert (await editor.expect("rtc_signal"))["from"] == owner.connection_id
    for client in (owner, editor, viewer):
        await client.close()


async def test_repeated_abuse_closes_with_policy(start_live: StartLive, db: TestDatabase) -> None:
    live = await start_live(call_abuse_burst=5, call_abuse_per_second=0.01)
    room = await seed_room(db, live.base_url)
    owner = await in_document(live.ws_url, room.owner.access_token, room.document_id)
    await join_call(owner, room.document_id)
    for _ in range(10):
        await signal(owner, room.document_id, str(uuid.uuid4()), OFFER)
    assert await owner.closed_with() == 1008


async def test_a_call_holds_at_most_its_limit(start_live: StartLive, db: TestDatabase) -> None:
    live = await start_live(call_max_participants=2)
    room = await seed_room(db, live.base_url)
    doc = room.document_id
    clients = [
        await in_document(live.ws_url, user.access_token, doc)
        for user in (room.owner, room.editor, room.viewer)
    ]
    await join_call(clients[0], doc)
    await join_call(clients[1], doc)
    full = await join_call(clients[2], doc)
    assert full["type"] == "error" and full["code"] == "call_full"
    # A place frees up when someone leaves.
    await clients[0].request({"type": "call_leave", "document_id": str(doc)}, "call_left")
    assert (await join_call(clients[2], doc))["type"] == "call_state"
    for client in clients:
        await client.close()


async def test_joining_a_call_needs_the_document(live: LiveApp, room: Room) -> None:
    client = await WsClient.open(live.ws_url, room.editor.access_token)
    not_joined = await join_call(client, room.document_id)
    assert not_joined["code"] == "not_joined"
    hidden = await join_call(client, uuid.uuid4())
    assert hidden["code"] == "not_found"
    await client.close()


async def test_leaving_the_document_closing_or_losing_access_leaves_the_call(
    live: LiveApp, room: Room
) -> None:
    doc = room.document_id
    owner = await in_document(live.ws_url, room.owner.access_token, doc)
    editor = await in_document(live.ws_url, room.editor.access_token, doc)
    viewer = await in_document(live.ws_url, room.viewer.access_token, doc)
    admin = await in_document(live.ws_url, room.admin.access_token, doc)
    for client in (owner, editor, viewer, admin):
        await join_call(client, doc)

    await editor.request({"type": "leave_document", "document_id": str(doc)}, "left")
    await owner.expect("call_left", connection_id=editor.connection_id)

    await admin.close()
    await owner.expect("call_left", connection_id=admin.connection_id)

    async with httpx.AsyncClient(base_url=live.base_url) as http:
        removed = await http.delete(
            f"/api/v1/workspaces/{room.workspace_id}/members/{room.viewer.id}",
            headers=room.owner.headers,
        )
        assert removed.status_code == 204
    await owner.expect("call_left", connection_id=viewer.connection_id)
    own = await viewer.expect("call_left", connection_id=viewer.connection_id)
    assert own["reason"] == "left_document"
    # The removed member can no longer signal into the call.
    await signal(viewer, doc, owner.connection_id, OFFER)
    assert not [e for e in await frames_until_pong(owner) if e["type"] == "rtc_signal"]

    async with httpx.AsyncClient(base_url=live.base_url) as http:
        listed = await http.get(f"/api/v1/presence/document/{doc}", headers=room.owner.headers)
    in_call = [u["connection_id"] for u in listed.json()["users"] if u["call"] is not None]
    assert in_call == [owner.connection_id]
    for client in (owner, editor, viewer):
        await client.close()


async def test_a_silent_connection_times_out_of_the_call(
    start_live: StartLive, db: TestDatabase
) -> None:
    live = await start_live(presence_timeout_seconds=0.6)
    room = await seed_room(db, live.base_url)
    doc = room.document_id
    owner = await in_document(live.ws_url, room.owner.access_token, doc)
    editor = await in_document(live.ws_url, room.editor.access_token, doc)
    await join_call(owner, doc)
    await join_call(editor, doc)
    # The owner keeps beating; the editor falls silent and is dropped.
    loop_deadline = 50
    for _ in range(loop_deadline):
        await owner.send({"type": "heartbeat"})
        try:
            left = await owner.expect("call_left", within=0.2)
        except (AssertionError, TimeoutError):
            continue
        assert left["connection_id"] == editor.connection_id
        break
    else:
        raise AssertionError("the silent participant never left the call")
    await owner.close()


async def test_a_rejoin_replaces_the_same_persons_old_connection(live: LiveApp, room: Room) -> None:
    doc = room.document_id
    owner = await in_document(live.ws_url, room.owner.access_token, doc)
    old = await in_document(live.ws_url, room.editor.access_token, doc)
    await join_call(owner, doc)
    await join_call(old, doc)
    # The editor's page lost its socket (the server has not noticed) and comes back.
    new = await in_document(live.ws_url, room.editor.access_token, doc)
    # Naming someone else's connection takes nobody out.
    bad = await new.request(
        {"type": "call_join", "document_id": str(doc), "replaces": owner.connection_id},
        "call_state",
    )
    assert owner.connection_id in {p["connection_id"] for p in bad["participants"]}
    await new.request({"type": "call_leave", "document_id": str(doc)}, "call_left")

    state = await new.request(
        {"type": "call_join", "document_id": str(doc), "replaces": old.connection_id},
        "call_state",
    )
    ids = {p["connection_id"] for p in state["participants"]}
    assert ids == {owner.connection_id, new.connection_id}
    await owner.expect("call_left", connection_id=old.connection_id)
    await owner.expect("call_joined", connection_id=new.connection_id)
    # The old connection is told and closed: it is dead to its page.
    left = await old.expect("call_left", connection_id=old.connection_id)
    assert left["reason"] == "replaced"
    assert await old.closed_with() == 1000

    malformed = await new.request(
        {"type": "call_join", "document_id": str(doc), "replaces": "not an id"}, "call_state"
    )
    assert malformed["type"] == "error" and malformed["code"] == "invalid_message"
    for client in (owner, new):
        await client.close()
