"""Sessions, timeouts, revocation, access changes, shutdown and clean-up of `/ws` connections."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

import httpx

from cowrite.broker.memory import MemoryBus
from cowrite.kit.clock import as_utc, utcnow
from cowrite.kit.events import DocumentTrashed, MembershipChanged, WorkspaceDeleted
from cowrite.presence.store import PresenceEntry
from tests.conftest import server_env
from tests.presence.conftest import Room, StartLive, seed_room
from tests.support.databases import TestDatabase
from tests.support.presence import (
    LiveApp,
    WsClient,
    add_session_row,
    make_document,
    sessions_of,
)
from tests.support.server import ServerProcess, run_cli


async def _eventually(check: object, within: float = 5.0) -> None:
    """Poll a state that changes in the background (database rows have no event to await)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()  # type: ignore[operator]
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.05)


async def test_sessions_are_written_on_connect_join_leave_and_disconnect(
    live: LiveApp, room: Room, db: TestDatabase
) -> None:
    client = await WsClient.open(
        live.ws_url,
        room.editor.access_token,
        headers={"User-Agent": "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36"},
    )
    [row] = await sessions_of(db.url, room.editor.id)
    assert str(row.connection_id) == client.connection_id
    assert str(row.login_id) == client.connected["session_id"]
    assert row.is_active and row.channel == "ws"
    assert row.device_type == "mobile"
    assert row.user_agent.startswith("Mozilla/5.0 (Linux; Android 14)")
    assert row.client_address == "127.0.0.1"
    assert row.document_id is None

    await client.join(room.document_id)
    [row] = await sessions_of(db.url, room.editor.id)
    assert row.document_id == room.document_id and row.workspace_id == room.workspace_id

    await client.request({"type": "leave_document", "document_id": str(room.document_id)}, "left")
    [row] = await sessions_of(db.url, room.editor.id)
    assert row.document_id is None and row.is_active

    # The live connection is listed among the user's sessions.
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        mine = (await http.get("/api/v1/users/me/sessions", headers=room.editor.headers)).json()
    assert client.connection_id in str(mine)

    await client.close()

    async def closed() -> bool:
        [row] = await sessions_of(db.url, room.editor.id)
        return not row.is_active and row.disconnected_at is not None

    await _eventually(closed)


async def test_cursor_moves_never_write_the_database(
    live: LiveApp, room: Room, db: TestDatabase
) -> None:
    client = await WsClient.open(live.ws_url, room.editor.access_token)
    await client.join(room.document_id)
    [before] = await sessions_of(db.url, room.editor.id)
    doc = str(room.document_id)
    for column in range(50):
        await client.send(
            {"type": "cursor_move", "document_id": doc, "cursor": {"line": 2, "column": column}}
        )
    await client.request({"type": "heartbeat"}, "heartbeat_ack")
    [after] = await sessions_of(db.url, room.editor.id)
    assert after.last_seen_at == before.last_seen_at

    async def latest_stored() -> bool:
        entries = await live.state.presence.document_presence(room.document_id)
        return entries[0].cursor == {"line": 2, "column": 49}

    # The store takes the latest position once per flush tick.
    await _eventually(latest_stored)


async def test_silent_connections_time_out(start_live: StartLive, db: TestDatabase) -> None:
    live = await start_live(presence_timeout_seconds=0.6)
    room = await seed_room(db, live.base_url)
    talker = await WsClient.open(live.ws_url, room.owner.access_token)
    await talker.join(room.document_id)
    silent = await WsClient.open(live.ws_url, room.viewer.access_token)
    await silent.join(room.document_id)

    async def keep_talking() -> None:
        while True:
            await talker.send({"type": "heartbeat"})
            await asyncio.sleep(0.15)

    chatter = asyncio.create_task(keep_talking())
    try:
        assert await silent.closed_with() == 4408
        await talker.expect("user_left", connection_id=silent.connection_id)
    finally:
        chatter.cancel()
    users = await live.state.presence.document_presence(room.document_id)
    assert [str(u.connection_id) for u in users] == [talker.connection_id]

    async def inactive() -> bool:
        return not any(row.is_active for row in await sessions_of(db.url, room.viewer.id))

    await _eventually(inactive)


async def test_logout_closes_that_logins_sockets_only(live: LiveApp, room: Room) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        response = await http.post(
            "/api/v1/auth/login",
            json={"email": room.editor.email, "password": "correct horse battery staple"},
        )
        second_login = response.json()
        revoked = await WsClient.open(live.ws_url, room.editor.access_token)
        kept = await WsClient.open(live.ws_url, second_login["access_token"])
        await kept.join(room.document_id)
        response = await http.post(
            "/api/v1/auth/logout", json={"refresh_token": room.editor.refresh_token}
        )
        assert response.status_code == 204
    assert await revoked.closed_with() == 4401
    assert (await kept.request({"type": "heartbeat"}, "heartbeat_ack"))["type"] == "heartbeat_ack"
    # The ended login cannot come back.
    again = await WsClient.open(live.ws_url, room.editor.access_token, expect_connected=False)
    assert await again.closed_with() == 4401


async def test_losing_access_takes_connections_out_of_the_rooms(
    live: LiveApp, room: Room, db: TestDatabase
) -> None:
    second = await make_document(db.url, room.workspace_id, title="Second")
    owner = await WsClient.open(live.ws_url, room.owner.access_token)
    editor = await WsClient.open(live.ws_url, room.editor.access_token)
    viewer = await WsClient.open(live.ws_url, room.viewer.access_token)
    for client in (owner, editor, viewer):
        await client.join(room.document_id)
    await owner.join(second)
    await editor.join(second)
    events = live.state.events

    # The editor is removed from the workspace: out of both rooms at once.
    await events.emit(MembershipChanged(room.workspace_id, room.editor.id, None))
    own = await editor.expect("user_left", connection_id=editor.connection_id)
    assert own["reason"] == "access_revoked"
    left_rooms = set()
    while len(left_rooms) < 2:
        event = await owner.expect("user_left", connection_id=editor.connection_id)
        left_rooms.add(event["document_id"])
    assert left_rooms == {str(room.document_id), str(second)}
    await viewer.expect("user_left", connection_id=editor.connection_id)
    # The socket itself stays: it may join documents it can still see.
    assert (await editor.request({"type": "heartbeat"}, "heartbeat_ack"))["type"] == "heartbeat_ack"
    # A role change keeps everyone where they are.
    await events.emit(MembershipChanged(room.workspace_id, room.viewer.id, "editor"))
    doc = str(room.document_id)
    await viewer.send(
        {"type": "cursor_move", "document_id": doc, "cursor": {"line": 1, "column": 1}}
    )
    await owner.expect("cursor_move", connection_id=viewer.connection_id)

    # The second document goes to the trash: its room empties.
    await events.emit(DocumentTrashed(second, room.workspace_id))
    trashed = await owner.expect("user_left", connection_id=owner.connection_id)
    assert trashed["reason"] == "document_trashed" and trashed["document_id"] == str(second)
    assert second not in live.state.presence.manager.rooms

    # The workspace is deleted: every room of it empties.
    await events.emit(WorkspaceDeleted(room.workspace_id))
    for client in (owner, viewer):
        gone = await client.expect("user_left", connection_id=client.connection_id)
        assert gone["reason"] == "workspace_deleted"
    assert room.document_id not in live.state.presence.manager.rooms
    assert await live.state.presence.document_presence(room.document_id) == []


async def test_yjs_connections_show_in_presence(live: LiveApp, room: Room) -> None:
    watcher = await WsClient.open(live.ws_url, room.owner.access_token)
    await watcher.join(room.document_id)
    yjs_id = uuid.uuid4()
    entry = PresenceEntry(
        connection_id=yjs_id,
        user_id=room.editor.id,
        full_name="Edith Editor",
        session_id=None,
        device_type="web",
        document_id=room.document_id,
        channel="yjs",
        is_editing=True,
    )
    await live.state.presence.track_external(entry)
    joined = await watcher.expect("user_joined", document_id=str(room.document_id))
    assert joined["user"]["channel"] == "yjs"
    assert joined["user"]["connection_id"] == str(yjs_id)
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        listed = (
            await http.get(
                f"/api/v1/presence/document/{room.document_id}", headers=room.viewer.headers
            )
        ).json()
    assert {u["channel"] for u in listed["users"]} == {"ws", "yjs"}
    late = await WsClient.open(live.ws_url, room.viewer.access_token)
    assert "yjs" in {u["channel"] for u in (await late.join(room.document_id))["users"]}

    await live.state.presence.untrack_external(room.document_id, yjs_id)
    await watcher.expect("user_left", connection_id=str(yjs_id))


async def test_two_processes_share_a_room_through_the_broker(
    start_live: StartLive, db: TestDatabase
) -> None:
    bus = MemoryBus()
    first = await start_live(bus=bus)
    second = await start_live(bus=bus)
    room = await seed_room(db, first.base_url)
    here = await WsClient.open(first.ws_url, room.owner.access_token)
    there = await WsClient.open(second.ws_url, room.editor.access_token)
    await here.join(room.document_id)
    await there.join(room.document_id)
    joined = await here.expect("user_joined", document_id=str(room.document_id))
    assert joined["user"]["user_id"] == str(room.editor.id)
    assert joined["user"]["connection_id"] == there.connection_id
    doc = str(room.document_id)
    await there.send(
        {"type": "cursor_move", "document_id": doc, "cursor": {"line": 4, "column": 2}}
    )
    moved = await here.expect("cursor_move", connection_id=there.connection_id)
    assert moved["cursor"] == {"line": 4, "column": 2}
    await here.send({"type": "editing_start", "document_id": doc})
    await there.expect("editing_start", connection_id=here.connection_id)
    await there.close()
    await here.expect("user_left", connection_id=there.connection_id)


async def test_startup_and_periodic_cleanup_close_sessions_of_dead_processes(
    start_live: StartLive, db: TestDatabase
) -> None:
    first = await start_live()
    room = await seed_room(db, first.base_url)
    await first.stop()
    long_ago = utcnow() - timedelta(minutes=10)
    dead = await add_session_row(db.url, room.owner.id, process_id="dead:1", last_seen_at=long_ago)
    fresh = await add_session_row(
        db.url, room.owner.id, process_id="alive:2", last_seen_at=utcnow()
    )

    live = await start_live(session_touch_interval_seconds=0.1, cleanup_interval_seconds=0.1)
    rows = {row.connection_id: row for row in await sessions_of(db.url, room.owner.id)}
    assert not rows[dead].is_active and rows[dead].disconnected_at is not None
    assert rows[fresh].is_active

    client = await WsClient.open(live.ws_url, room.owner.access_token)
    await add_session_row(db.url, room.owner.id, process_id="dead:3", last_seen_at=long_ago)

    async def only_live_left() -> bool:
        active = [r for r in await sessions_of(db.url, room.owner.id) if r.is_active]
        return {str(r.connection_id) for r in active} == {client.connection_id, str(fresh)}

    await _eventually(only_live_left)
    # This process keeps its own sessions fresh.
    mine = next(
        r
        for r in await sessions_of(db.url, room.owner.id)
        if str(r.connection_id) == client.connection_id
    )
    assert as_utc(mine.last_seen_at) > utcnow() - timedelta(seconds=5)


async def test_cleanup_command_closes_stale_sessions(
    start_live: StartLive, db: TestDatabase, tmp_path: Path
) -> None:
    live = await start_live()
    room = await seed_room(db, live.base_url)
    await live.stop()
    an_hour_ago = utcnow() - timedelta(hours=1)
    stale = await add_session_row(
        db.url, room.owner.id, process_id="gone:1", last_seen_at=an_hour_ago
    )
    cleanup = await asyncio.to_thread(
        run_cli, ["cleanup"], cwd=tmp_path, env=server_env(db, tmp_path / "data"), timeout=60
    )
    assert cleanup.returncode == 0, cleanup.stderr
    assert "closed 1 stale sessions" in cleanup.stdout
    rows = await sessions_of(db.url, room.owner.id)
    assert [r.is_active for r in rows if r.connection_id == stale] == [False]


async def test_graceful_shutdown_closes_sockets_1001(
    server: ServerProcess, db: TestDatabase
) -> None:
    room = await seed_room(db, server.base_url)
    client = await WsClient.open(server.ws_url, room.editor.access_token)
    await client.join(room.document_id)
    stopping = asyncio.create_task(asyncio.to_thread(server.stop))
    assert await client.closed_with(within=15) == 1001
    await stopping
    rows = await sessions_of(db.url, room.editor.id)
    assert rows and not any(row.is_active for row in rows)


async def test_rest_changes_reach_the_sockets(live: LiveApp, room: Room) -> None:
    """Removing a member and trashing a document through the API act on live rooms."""
    owner = await WsClient.open(live.ws_url, room.owner.access_token)
    editor = await WsClient.open(live.ws_url, room.editor.access_token)
    await owner.join(room.document_id)
    await editor.join(room.document_id)
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        removed = await http.delete(
            f"/api/v1/workspaces/{room.workspace_id}/members/{room.editor.id}",
            headers=room.owner.headers,
        )
        assert removed.status_code == 204, removed.text
        await owner.expect("user_left", connection_id=editor.connection_id)
        notice = await editor.expect("user_left", connection_id=editor.connection_id)
        assert notice["reason"] == "access_revoked"
        assert (await editor.join(room.document_id))["code"] == "not_found"

        trashed = await http.delete(
            f"/api/v1/documents/{room.document_id}", headers=room.owner.headers
        )
        assert trashed.status_code in (200, 204), trashed.text
    gone = await owner.expect("user_left", connection_id=owner.connection_id)
    assert gone["reason"] == "document_trashed"
