"""An open page learns at once that its person's role changed (the editor turns read-only)."""

from __future__ import annotations

import asyncio

import httpx
import orjson
import websockets

from tests.support.factories import make_user
from tests.support.server import ServerProcess
from tests.support.workspaces import add_member, make_workspace


async def _next_of_type(socket: websockets.ClientConnection, kind: str) -> dict[str, object]:
    async with asyncio.timeout(10):
        while True:
            frame = orjson.loads(await socket.recv())
            if frame.get("type") == kind:
                return dict(frame)


async def test_a_downgraded_member_hears_their_new_role(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        owner, member = await make_user(client), await make_user(client)
        workspace = await make_workspace(client, owner)
        await add_member(client, workspace["id"], owner, member, "editor")
        url = f"{server.ws_url}/ws?token={member.access_token}"
        async with websockets.connect(url) as socket:
            await _next_of_type(socket, "connected")
            changed = await client.patch(
                f"/api/v1/workspaces/{workspace['id']}/members/{member.id}",
                json={"role": "viewer"},
                headers=owner.headers,
            )
            assert changed.status_code == 200, changed.text
            event = await _next_of_type(socket, "role_changed")
    assert event == {"type": "role_changed", "workspace_id": workspace["id"], "role": "viewer"}
