"""Open sockets follow a document's access at once: restricting it, listing, demoting and taking
someone off reach `/ws` and `/ws/yjs` on a real server."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from pycrdt import Doc, Text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cowrite.collab import protocol
from tests.support.factories import UserCtx, make_user
from tests.support.presence import WsClient
from tests.support.server import ServerProcess
from tests.support.workspaces import add_member, make_workspace


def _yjs(server: ServerProcess, document_id: str, user: UserCtx) -> str:
    return f"{server.ws_url}/ws/yjs/{document_id}?token={user.access_token}"


async def _close_code(ws: ClientConnection) -> int | None:
    try:
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


async def _write(ws: ClientConnection, text: str) -> None:
    doc: Doc = Doc()
    doc.get("content", type=Text).insert(0, text)
    await ws.send(protocol.sync_update(doc.get_update()))
    await ws.ping()  # the server has read the update by the time it answers


async def _text_now(server: ServerProcess, document_id: str, owner: UserCtx) -> str:
    async with connect(_yjs(server, document_id, owner)) as ws:
        return await _synced_text(ws)


async def test_access_changes_reach_open_sockets_at_once(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        owner = await make_user(http)
        member = await make_user(http)
        workspace = await make_workspace(http, owner)
        await add_member(http, workspace["id"], owner, member, "editor")
        created = await http.post(
            f"/api/v1/workspaces/{workspace['id']}/documents",
            json={"title": "Plans", "content": "intact"},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        document_id = created.json()["id"]
        document_uuid = uuid.UUID(document_id)
        url = f"/api/v1/documents/{document_id}"

        async def patch(path: str, body: dict[str, Any]) -> None:
            answer = await http.patch(path, json=body, headers=owner.headers)
            assert answer.status_code == 200, answer.text

        events = await WsClient.open(server.ws_url, member.access_token)
        watcher = await WsClient.open(server.ws_url, owner.access_token)
        try:
            await events.join(document_uuid)
            await watcher.join(document_uuid)
            async with connect(_yjs(server, document_id, member)) as ws:
                assert await _synced_text(ws) == "intact"
                # Restricted, with the member not listed: both sockets lose the document.
                await patch(url, {"visibility": "restricted"})
                assert await _close_code(ws) == 4403
            left = await events.expect("user_left", connection_id=events.connection_id)
            assert left["reason"] == "access_revoked"
            await watcher.expect("user_left", connection_id=events.connection_id)

            # Listed as a viewer: in again, read only.
            listed = await http.post(
                f"{url}/members",
                json={"user_id": str(member.id), "role": "viewer"},
                headers=owner.headers,
            )
            assert listed.status_code == 201, listed.text
            rejoined = await events.join(document_uuid)
            assert rejoined["type"] == "presence_list"
            async with connect(_yjs(server, document_id, member)) as ws:
                assert await _synced_text(ws) == "intact"
                await _write(ws, "refused ")
                assert await _text_now(server, document_id, owner) == "intact"
                # Raised to editor on the open socket: the next write goes through.
                await patch(f"{url}/members/{member.id}", {"role": "editor"})
                changed = await events.expect("document_role_changed", document_id=document_id)
                assert changed["role"] == "editor"
                await _write(ws, "accepted ")
                after = await _text_now(server, document_id, owner)
                assert "accepted " in after and "intact" in after
                # Taken off the list: closed, and out of the presence room.
                removed = await http.delete(f"{url}/members/{member.id}", headers=owner.headers)
                assert removed.status_code == 204, removed.text
                assert await _close_code(ws) == 4403
            left = await events.expect("user_left", connection_id=events.connection_id)
            assert left["reason"] == "access_revoked"
            # The socket itself stays; the document is gone for it.
            refused = await events.request(
                {"type": "join_document", "document_id": document_id}, "error"
            )
            assert refused["code"] == "not_found"
        finally:
            await events.close()
            await watcher.close()
