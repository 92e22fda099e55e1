from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.documents import create_document
from tests.support.factories import UserCtx
from tests.support.workspaces import Team, make_team


@pytest.fixture
async def team(client: httpx.AsyncClient) -> Team:
    return await make_team(client)


async def post_comment(
    client: httpx.AsyncClient,
    user: UserCtx,
    document_id: str,
    body: str = "A note",
    *,
    expect: int = 201,
    **extra: Any,
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/documents/{document_id}/comments",
        json={"body": body, **extra},
        headers=user.headers,
    )
    assert response.status_code == expect, response.text
    result: dict[str, Any] = response.json()
    return result


async def threads(
    client: httpx.AsyncClient, user: UserCtx, document_id: str, status: str = "all"
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/documents/{document_id}/comments",
        params={"status": status},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def document_with(client: httpx.AsyncClient, team: Team, content: str) -> str:
    document = await create_document(client, team.editor, team.workspace_id, content=content)
    document_id: str = document["id"]
    return document_id
