"""A share link works only while the person who made it may still edit its document: a lowered
workspace role, leaving the workspace, a restriction that leaves them out or a lowered role on
the document revoke their links at once, and open views close (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.shares.test_share_socket import Reader, closed_with
from tests.support.documents import create_document
from tests.support.server import ServerProcess
from tests.support.workspaces import Team, make_team, set_role


async def _share(client: httpx.AsyncClient, by: Any, document: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/documents/{document['id']}/shares", json={}, headers=by.headers
    )
    assert response.status_code == 201, response.text
    link: dict[str, Any] = response.json()
    return link


async def _works(client: httpx.AsyncClient, link: dict[str, Any]) -> bool:
    response = await client.get(f"/api/v1/shared/{link['token']}")
    assert response.status_code in (200, 404), response.text
    return response.status_code == 200


async def _listed(client: httpx.AsyncClient, team: Team, document: dict[str, Any]) -> set[str]:
    response = await client.get(
        f"/api/v1/documents/{document['id']}/shares", headers=team.owner.headers
    )
    assert response.status_code == 200, response.text
    return {link["id"] for link in response.json()}


async def test_a_lowered_workspace_role_revokes_only_that_persons_links(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    editors = await _share(client, team.editor, document)
    admins = await _share(client, team.admin, document)
    assert await _works(client, editors) and await _works(client, admins)

    await set_role(client, team.workspace_id, team.owner, team.editor, "commenter")

    assert not await _works(client, editors)
    assert await _works(client, admins)
    assert await _listed(client, team, document) == {admins["id"]}
    # Raising the role again does not bring a revoked link back.
    await set_role(client, team.workspace_id, team.owner, team.editor, "editor")
    assert not await _works(client, editors)


async def test_leaving_the_workspace_revokes_the_links_one_made(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    link = await _share(client, team.editor, document)
    left = await client.delete(
        f"/api/v1/workspaces/{team.workspace_id}/members/{team.editor.id}",
        headers=team.editor.headers,
    )
    assert left.status_code == 204, left.text
    assert not await _works(client, link)
    assert await _listed(client, team, document) == set()


async def test_a_restriction_that_leaves_the_creator_out_revokes_their_link(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    editors = await _share(client, team.editor, document)
    owners = await _share(client, team.owner, document)
    restricted = await client.patch(
        f"/api/v1/documents/{document['id']}",
        json={"visibility": "restricted"},
        headers=team.owner.headers,
    )
    assert restricted.status_code == 200, restricted.text
    assert not await _works(client, editors)
    assert await _works(client, owners)
    assert await _listed(client, team, document) == {owners["id"]}


async def test_a_creator_listed_as_editor_keeps_their_link_until_lowered_there(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    members = f"/api/v1/documents/{document['id']}/members"
    listed = await client.post(
        members, json={"user_id": str(team.editor.id), "role": "editor"}, headers=team.owner.headers
    )
    assert listed.status_code == 201, listed.text
    restricted = await client.patch(
        f"/api/v1/documents/{document['id']}",
        json={"visibility": "restricted"},
        headers=team.owner.headers,
    )
    assert restricted.status_code == 200, restricted.text
    link = await _share(client, team.editor, document)
    # A viewer of the workspace, but still this document's editor: the link stays.
    await set_role(client, team.workspace_id, team.owner, team.editor, "viewer")
    assert await _works(client, link)

    lowered = await client.patch(
        f"{members}/{team.editor.id}", json={"role": "viewer"}, headers=team.owner.headers
    )
    assert lowered.status_code == 200, lowered.text
    assert not await _works(client, link)


async def test_an_open_view_closes_when_its_creator_loses_edit_rights(
    server: ServerProcess,
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        team = await make_team(http)
        document = await create_document(
            http, team.owner, team.workspace_id, title="Live", content="Hello"
        )
        link = await _share(http, team.editor, document)
        url = f"{server.ws_url}/ws/yjs/{document['id']}?share={link['token']}"
        async with connect(url) as ws:
            assert await Reader(ws).sync() == "Hello"
            await set_role(http, team.workspace_id, team.owner, team.editor, "viewer")
            assert await closed_with(ws) == 4403
        async with connect(url) as ws:
            assert await closed_with(ws) == 4404
