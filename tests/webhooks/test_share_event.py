"""`share.created` reaches the workspace's webhooks, naming the link but never its token."""

from __future__ import annotations

import httpx

from tests.support.receiver import Receiver
from tests.support.workspaces import Team
from tests.webhooks.conftest import add_webhook


async def test_a_new_share_link_is_announced_without_its_token(
    client: httpx.AsyncClient, team: Team, receiver: Receiver
) -> None:
    hook = await add_webhook(client, team, receiver.url(), ["share.created"])
    created = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={"title": "Public plan"},
        headers=team.editor.headers,
    )
    document_id = created.json()["id"]
    link = await client.post(
        f"/api/v1/documents/{document_id}/shares",
        json={"password": "open sesame"},
        headers=team.editor.headers,
    )
    assert link.status_code == 201
    [request] = await receiver.wait_count(1)
    assert request.event == "share.created" and request.signed_by(hook["secret"])
    data = request.json["data"]
    assert data["share_id"] == link.json()["id"] and data["document_id"] == document_id
    assert data["has_password"] is True and data["created_by"] == str(team.editor.id)
    assert link.json()["token"] not in request.body.decode()
