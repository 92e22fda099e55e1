"""The read-only live view `/ws/yjs/{document_id}?share=<token>` on real servers: it follows the
owner's typing, refuses updates, shows its reader only as anonymous, and closes the moment its
link is revoked, on this process or another."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from pycrdt import Doc, Text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cowrite.collab import protocol
from tests.scaleout.conftest import Cluster, cluster, cluster_env
from tests.support.databases import TestDatabase
from tests.support.documents import create_document
from tests.support.redis import redis_server
from tests.support.server import ServerProcess
from tests.support.workspaces import Team, make_team

__all__ = ["cluster", "cluster_env", "redis_server"]


@pytest.fixture
def server(shared_server: ServerProcess, db: TestDatabase) -> ServerProcess:
    """Every test makes its own team, document and link: one server serves the module."""
    return shared_server


class Reader:
    """A y-websocket client that keeps its own copy of the text and the awareness it hears."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.doc: Doc = Doc()
        self.text = self.doc.get("content", type=Text)
        self.awareness: dict[int, Any] = {}

    async def sync(self) -> str:
        await self.ws.send(protocol.sync_step1(self.doc.get_state()))
        await self.until(lambda: True, step2=True)
        return str(self.text)

    async def until(self, done: Any, *, step2: bool = False) -> None:
        async with asyncio.timeout(10):
            while not (done() and not step2):
                frame = await self.ws.recv()
                assert isinstance(frame, bytes)
                for message in protocol.parse_frame(frame):
                    if isinstance(message, protocol.SyncStep2 | protocol.SyncUpdate):
                        self.doc.apply_update(message.update)
                        if isinstance(message, protocol.SyncStep2):
                            step2 = False
                    elif isinstance(message, protocol.AwarenessMessage):
                        for entry in protocol.decode_awareness(message.payload):
                            self.awareness[entry.client_id] = orjson.loads(entry.state)

    async def type(self, text: str) -> None:
        before = self.doc.get_state()
        self.text += text
        await self.ws.send(protocol.sync_update(self.doc.get_update(before)))


async def closed_with(ws: ClientConnection) -> int | None:
    try:
        async with asyncio.timeout(10):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def _setup(
    server: ServerProcess, **share: Any
) -> tuple[Team, dict[str, Any], dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        team = await make_team(http)
        document = await create_document(http, team.owner, team.workspace_id, content="Hello")
        response = await http.post(
            f"/api/v1/documents/{document['id']}/shares", json=share, headers=team.editor.headers
        )
        assert response.status_code == 201, response.text
        return team, document, response.json()


def _share_url(
    server: ServerProcess, document_id: str, link: dict[str, Any], extra: str = ""
) -> str:
    return f"{server.ws_url}/ws/yjs/{document_id}?share={link['token']}{extra}"


def _member_url(server: ServerProcess, document_id: str, token: str) -> str:
    return f"{server.ws_url}/ws/yjs/{document_id}?token={token}"


async def test_the_live_view_follows_the_owner_and_changes_nothing(server: ServerProcess) -> None:
    team, document, link = await _setup(server)
    async with (
        connect(_member_url(server, document["id"], team.owner.access_token)) as owner_ws,
        connect(_share_url(server, document["id"], link)) as reader_ws,
    ):
        owner, reader = Reader(owner_ws), Reader(reader_ws)
        assert await owner.sync() == "Hello"
        assert await reader.sync() == "Hello"

        await owner.type(", world")
        await reader.until(lambda: str(reader.text) == "Hello, world")

        # The reader's own edit is never taken: a fresh sync on its socket shows none of it.
        await reader.type(" (defaced)")
        fresh = Reader(reader_ws)
        assert await fresh.sync() == "Hello, world"
        assert await owner.sync() == "Hello, world"


async def test_the_reader_shows_up_only_as_anonymous(server: ServerProcess) -> None:
    team, document, link = await _setup(server)
    async with (
        connect(_member_url(server, document["id"], team.owner.access_token)) as owner_ws,
        connect(_share_url(server, document["id"], link)) as reader_ws,
    ):
        owner = Reader(owner_ws)
        await owner.sync()
        spoof = {"user": {"id": str(team.owner.id), "name": "Olive Owner"}, "cursor": None}
        entry = protocol.AwarenessEntry(4242, 1, orjson.dumps(spoof))
        await reader_ws.send(protocol.awareness_message(protocol.encode_awareness([entry])))
        await owner.until(lambda: 4242 in owner.awareness)
        user = owner.awareness[4242]["user"]
        assert user["name"] == "Anonymous reader" and user["anonymous"] is True
        assert user["id"] != str(team.owner.id) and user["id"].startswith("anonymous:")


async def test_password_links_need_the_unlock_token(server: ServerProcess) -> None:
    _team, document, link = await _setup(server, password="open sesame")
    async with connect(_share_url(server, document["id"], link)) as ws:
        assert await closed_with(ws) == 4401
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        unlocked = await http.post(
            f"/api/v1/shared/{link['token']}/unlock", json={"password": "open sesame"}
        )
        token = unlocked.json()["access_token"]
    async with connect(_share_url(server, document["id"], link, f"&token={token}")) as ws:
        assert await Reader(ws).sync() == "Hello"


async def test_links_open_only_their_document_and_tokens_are_no_socket_key(
    server: ServerProcess,
) -> None:
    team, document, link = await _setup(server)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        other = await create_document(http, team.owner, team.workspace_id, content="Secret")
        made = await http.post(
            "/api/v1/users/me/tokens",
            json={"name": "ci", "scopes": ["read", "write"]},
            headers=team.owner.headers,
        )
        api_token = made.json()["token"]
    async with connect(_share_url(server, other["id"], link)) as ws:
        assert await closed_with(ws) == 4404
    async with connect(f"{server.ws_url}/ws/yjs/{document['id']}?share=nope") as ws:
        assert await closed_with(ws) == 4404
    async with connect(_member_url(server, document["id"], api_token)) as ws:
        assert await closed_with(ws) == 4401


async def test_revoking_or_turning_sharing_off_closes_open_views(server: ServerProcess) -> None:
    team, document, link = await _setup(server)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        async with connect(_share_url(server, document["id"], link)) as ws:
            await Reader(ws).sync()
            revoked = await http.delete(f"/api/v1/shares/{link['id']}", headers=team.editor.headers)
            assert revoked.status_code == 204
            assert await closed_with(ws) == 4403
        async with connect(_share_url(server, document["id"], link)) as ws:
            assert await closed_with(ws) == 4404

        second = await http.post(
            f"/api/v1/documents/{document['id']}/shares", json={}, headers=team.editor.headers
        )
        async with connect(_share_url(server, document["id"], second.json())) as ws:
            await Reader(ws).sync()
            off = await http.patch(
                f"/api/v1/workspaces/{team.workspace_id}",
                json={"allow_public_shares": False},
                headers=team.owner.headers,
            )
            assert off.status_code == 200
            assert await closed_with(ws) == 4403


@pytest.mark.redis
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_revoking_on_one_process_closes_views_on_another(cluster: Cluster) -> None:
    team, document, link = await _setup(cluster.a)
    async with connect(_share_url(cluster.b, document["id"], link)) as ws:
        assert await Reader(ws).sync() == "Hello"
        async with httpx.AsyncClient(base_url=cluster.a.base_url, timeout=30) as http:
            revoked = await http.delete(f"/api/v1/shares/{link['id']}", headers=team.editor.headers)
            assert revoked.status_code == 204
        assert await closed_with(ws) == 4403
