"""`/ws/yjs` on a real server: who may connect, and bad input refused with a clear close code
while the document and the other clients stay untouched."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from pycrdt import Doc, Map, Text
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cowrite.collab import protocol
from cowrite.db import create_engine, create_session_factory, unit_of_work
from cowrite.models import UserSession
from tests.conftest import server_env
from tests.support.collab import DocCtx, make_document, stored_text
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx, make_user
from tests.support.server import ServerProcess

MAX_MESSAGE = 64 * 1024


@pytest.fixture(scope="module")
def limited_server(
    database: TestDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One server per backend for the module: every test makes its own users and document, and
    the database is emptied after each test."""
    workdir = tmp_path_factory.mktemp("yjs-socket")
    env = server_env(
        database,
        workdir / "data",
        COWRITE_YJS_MAX_MESSAGE_BYTES=str(MAX_MESSAGE),
        COWRITE_YJS_RATE_PER_SECOND="100",
        COWRITE_YJS_RATE_BURST="200",
        COWRITE_WS_AUTH_TIMEOUT_SECONDS="1",
    )
    process = ServerProcess(env=env, workdir=workdir)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def owner(limited_server: ServerProcess, db: TestDatabase) -> AsyncIterator[UserCtx]:
    async with httpx.AsyncClient(base_url=limited_server.base_url, timeout=30) as http:
        yield await make_user(http)


@pytest.fixture
async def document(db: TestDatabase, owner: UserCtx) -> DocCtx:
    return await make_document(db.url, {owner.id: "owner"}, content="intact")


def _url(server: ServerProcess, document_id: object, token: str | None) -> str:
    query = f"?token={token}" if token is not None else ""
    return f"{server.ws_url}/ws/yjs/{document_id}{query}"


async def _close_code(ws: ClientConnection, send: bytes | str | None = None) -> int | None:
    try:
        if send is not None:
            # The server may close while a big frame is still going out: the close code is
            # then carried by the error the send raises.
            await ws.send(send)
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def _synced_text(ws: ClientConnection) -> str:
    await ws.send(protocol.sync_step1(b"\x00"))
    doc: Doc = Doc()
    async with asyncio.timeout(10):
        while True:
            frame = await ws.recv()
            assert isinstance(frame, bytes)
            for message in protocol.parse_frame(frame):
                if isinstance(message, protocol.SyncStep2):
                    doc.apply_update(message.update)
                    return str(doc.get("content", type=Text))


@pytest.mark.parametrize("token_kind", ["garbage", "garbage-first-frame", "other-first-frame"])
async def test_unauthenticated_sockets_close_4401(
    limited_server: ServerProcess, document: DocCtx, token_kind: str
) -> None:
    token = "not-a-token" if token_kind == "garbage" else None
    async with connect(_url(limited_server, document.document_id, token)) as ws:
        if token_kind == "garbage-first-frame":
            await ws.send('{"type":"auth","token":"not-a-token"}')
        elif token_kind == "other-first-frame":
            await ws.send(protocol.sync_step1(b"\x00"))
        assert await _close_code(ws) == 4401


async def test_a_socket_without_a_token_closes_4408_when_none_comes(
    limited_server: ServerProcess, document: DocCtx
) -> None:
    async with connect(_url(limited_server, document.document_id, None)) as ws:
        assert await _close_code(ws) == 4408


async def test_unknown_or_hidden_documents_close_4404(
    limited_server: ServerProcess, document: DocCtx, owner: UserCtx
) -> None:
    async with httpx.AsyncClient(base_url=limited_server.base_url, timeout=30) as http:
        stranger = await make_user(http)
    cases = [
        (uuid.uuid4(), owner.access_token),
        ("not-a-uuid", owner.access_token),
        (document.document_id, stranger.access_token),
    ]
    for document_id, token in cases:
        async with connect(_url(limited_server, document_id, token)) as ws:
            assert await _close_code(ws) == 4404


def _text_update() -> bytes:
    doc: Doc = Doc()
    doc.get("content", type=Text).insert(0, "a longer insertion")
    return doc.get_update()


def _foreign_update() -> bytes:
    doc: Doc = Doc()
    doc.get("sidebar", type=Map)["open"] = True
    return doc.get_update()


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ("a text frame", 1003),
        (b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 1007),
        (b"\x00\x02\x80", 1007),
        (protocol.sync_update(_text_update()[:-4]), 1007),
        (protocol.sync_update(_foreign_update()), 4422),
        (protocol.sync_update(b"\x00" * (MAX_MESSAGE + 10)), 1009),
        (b"\x00" * (2 * 1024 * 1024), 1009),
    ],
    ids=["text", "overlong-varint", "truncated", "truncated-update", "foreign-root", "big", "huge"],
)
async def test_bad_input_is_refused_and_the_document_is_untouched(
    limited_server: ServerProcess,
    db: TestDatabase,
    document: DocCtx,
    owner: UserCtx,
    payload: bytes | str,
    code: int,
) -> None:
    url = _url(limited_server, document.document_id, owner.access_token)
    async with connect(url) as bystander:
        assert await _synced_text(bystander) == "intact"
        async with connect(url, max_size=None) as offender:
            assert await _close_code(offender, payload) == code
        async with connect(url) as newcomer:
            assert await _synced_text(newcomer) == "intact"
        await bystander.ping()  # the other client is still connected
    assert await stored_text(db.url, document.document_id) == "intact"


async def test_a_flood_of_tiny_updates_is_cut_off_without_harm(
    limited_server: ServerProcess, db: TestDatabase, document: DocCtx, owner: UserCtx
) -> None:
    url = _url(limited_server, document.document_id, owner.access_token)
    doc: Doc = Doc()
    async with connect(url) as flooder:
        await flooder.send(protocol.sync_step1(b"\x00"))
        text = doc.get("content", type=Text)
        closed_with = None
        try:
            for index in range(2000):
                before = doc.get_state()
                text.insert(0, str(index % 10))
                await flooder.send(protocol.sync_update(doc.get_update(before)))
        except ConnectionClosed as closed:
            closed_with = closed.rcvd.code if closed.rcvd else None
        if closed_with is None:
            closed_with = await _close_code(flooder)
    assert closed_with == 1008
    async with connect(url) as newcomer:
        survived = await _synced_text(newcomer)
    # The edits accepted before the cut are kept; nothing else changed.
    assert survived.count("intact") == 1
    assert set(survived.replace("intact", "")) <= set("0123456789")


async def test_a_vanished_clients_awareness_is_removed_for_the_others(
    limited_server: ServerProcess, document: DocCtx, owner: UserCtx
) -> None:
    url = _url(limited_server, document.document_id, owner.access_token)
    state = protocol.AwarenessEntry(1234, 1, b'{"user":{"name":"Ghost"}}')
    async with connect(url) as watcher:
        await _synced_text(watcher)
        vanishing = await connect(url)
        await vanishing.send(protocol.awareness_message(protocol.encode_awareness([state])))
        assert await _next_awareness(watcher) == [state]
        vanishing.transport.abort()  # gone without a goodbye
        removal = await _next_awareness(watcher)
    assert removal == [protocol.AwarenessEntry(1234, 2, b"null")]


async def _next_awareness(ws: ClientConnection) -> list[protocol.AwarenessEntry]:
    async with asyncio.timeout(10):
        while True:
            frame = await ws.recv()
            assert isinstance(frame, bytes)
            for message in protocol.parse_frame(frame):
                if isinstance(message, protocol.AwarenessMessage):
                    return protocol.decode_awareness(message.payload)


async def test_a_rest_write_reaches_connected_clients_as_a_merge(
    limited_server: ServerProcess, db: TestDatabase, document: DocCtx, owner: UserCtx
) -> None:
    url = _url(limited_server, document.document_id, owner.access_token)
    async with connect(url) as ws:
        await ws.send(protocol.sync_step1(b"\x00"))
        doc: Doc = Doc()
        text = doc.get("content", type=Text)
        async with httpx.AsyncClient(base_url=limited_server.base_url) as http:
            response = await http.patch(
                f"/api/v1/documents/{document.document_id}",
                json={"content": "intact, then patched"},
                headers=owner.headers,
            )
        assert response.status_code == 200, response.text
        assert response.json()["content"] == "intact, then patched"
        async with asyncio.timeout(10):
            while str(text) != "intact, then patched":
                frame = await ws.recv()
                assert isinstance(frame, bytes)
                for message in protocol.parse_frame(frame):
                    if isinstance(message, protocol.SyncStep2 | protocol.SyncUpdate):
                        doc.apply_update(message.update)
    assert await stored_text(db.url, document.document_id) == "intact, then patched"


async def test_a_yjs_connection_is_a_live_session_until_it_closes(
    limited_server: ServerProcess, db: TestDatabase, document: DocCtx, owner: UserCtx
) -> None:
    url = _url(limited_server, document.document_id, owner.access_token)
    async with connect(url, user_agent_header="Mozilla/5.0 (iPhone)") as ws:
        await _synced_text(ws)
        [row] = await _sessions(db, owner)
        assert (row.channel, row.is_active, row.device_type) == ("yjs", True, "mobile")
        assert row.document_id == document.document_id
    for _ in range(100):
        [row] = await _sessions(db, owner)
        if not row.is_active:
            break
        await asyncio.sleep(0.05)
    assert not row.is_active and row.disconnected_at is not None


async def _sessions(db: TestDatabase, user: UserCtx) -> list[UserSession]:
    engine = create_engine(db.url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            query = select(UserSession).where(UserSession.user_id == user.id)
            return list((await session.execute(query)).scalars())
    finally:
        await engine.dispose()


async def test_a_downgrade_makes_a_socket_read_only_and_a_removal_closes_it(
    limited_server: ServerProcess, db: TestDatabase, document: DocCtx, owner: UserCtx
) -> None:
    async with httpx.AsyncClient(base_url=limited_server.base_url, timeout=30) as http:
        member = await make_user(http)
        members = f"/api/v1/workspaces/{document.workspace_id}/members"
        added = await http.post(
            members, json={"email": member.email, "role": "editor"}, headers=owner.headers
        )
        assert added.status_code == 201, added.text
        async with (
            connect(_url(limited_server, document.document_id, member.access_token)) as ws,
            connect(_url(limited_server, document.document_id, owner.access_token)) as watcher,
        ):
            await _synced_text(ws)
            await _synced_text(watcher)
            changed = await http.patch(
                f"{members}/{member.id}", json={"role": "viewer"}, headers=owner.headers
            )
            assert changed.status_code == 200, changed.text
            doc: Doc = Doc()
            doc.get("content", type=Text).insert(0, "after the downgrade ")
            await ws.send(protocol.sync_update(doc.get_update()))
            await ws.ping()  # the server has read the update by the time it answers
            removed = await http.delete(f"{members}/{member.id}", headers=owner.headers)
            assert removed.status_code == 204, removed.text
            assert await _close_code(ws) == 4403
        async with connect(_url(limited_server, document.document_id, owner.access_token)) as ws:
            assert await _synced_text(ws) == "intact"
    assert await stored_text(db.url, document.document_id) == "intact"


async def test_yjs_users_show_in_presence_under_their_own_name(
    limited_server: ServerProcess, document: DocCtx, owner: UserCtx
) -> None:
    url = _url(limited_server, document.document_id, owner.access_token)
    presence = f"/api/v1/presence/document/{document.document_id}"
    async with httpx.AsyncClient(base_url=limited_server.base_url, timeout=30) as http:
        async with connect(url) as ws:
            await _synced_text(ws)
            # What a client claims in its awareness state does not name it.
            claim = protocol.AwarenessEntry(77, 1, b'{"user":{"name":"Somebody Else"}}')
            await ws.send(protocol.awareness_message(protocol.encode_awareness([claim])))
            response = await http.get(presence, headers=owner.headers)
            assert response.status_code == 200, response.text
            [entry] = response.json()["users"]
            assert entry["channel"] == "yjs"
            assert entry["user_id"] == str(owner.id)
            assert entry["full_name"] == owner.full_name
        for _ in range(100):
            users = (await http.get(presence, headers=owner.headers)).json()["users"]
            if not users:
                break
            await asyncio.sleep(0.05)
        assert users == []
