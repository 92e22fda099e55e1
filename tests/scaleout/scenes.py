"""The cast of the multi-process tests: an owner and an editor sharing one empty document."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from tests.support.factories import UserCtx, make_user
from tests.support.server import ServerProcess
from tests.support.workspaces import add_member, make_workspace


@dataclass
class Scene:
    owner: UserCtx
    editor: UserCtx
    document_id: str


async def make_scene(server: ServerProcess, format_name: str = "markdown") -> Scene:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        owner, editor = await make_user(client), await make_user(client)
        workspace = await make_workspace(client, owner)
        await add_member(client, workspace["id"], owner, editor, "editor")
        created = await client.post(
            f"/api/v1/workspaces/{workspace['id']}/documents",
            json={"title": "Across processes", "content": "", "format": format_name},
            headers=owner.headers,
        )
        assert created.status_code == 201, created.text
        return Scene(owner, editor, created.json()["id"])
