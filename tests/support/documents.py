"""Documents for document, version and search tests, made through the public API as a client
would (workspaces and teams come from `tests.support.workspaces`)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.support.factories import UserCtx


async def create_document(
    client: httpx.AsyncClient,
    user: UserCtx,
    workspace_id: str | uuid.UUID,
    title: str = "Notes",
    content: str = "",
    tags: list[str] | None = None,
) -> dict[str, Any]:
    """Create a document as `user`; returns the 201 body."""
    response = await client.post(
        f"/api/v1/workspaces/{workspace_id}/documents",
        json={"title": title, "content": content, "tags": tags or []},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def delete_workspace(client: httpx.AsyncClient, owner: UserCtx, workspace_id: str) -> None:
    response = await client.delete(f"/api/v1/workspaces/{workspace_id}", headers=owner.headers)
    assert response.status_code == 204, response.text


async def restrict_document(
    client: httpx.AsyncClient, user: UserCtx, document_id: str | uuid.UUID
) -> dict[str, Any]:
    """Make a document restricted as `user`; returns the 200 body."""
    response = await client.patch(
        f"/api/v1/documents/{document_id}", json={"visibility": "restricted"}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def list_on_document(
    client: httpx.AsyncClient, actor: UserCtx, document_id: str | uuid.UUID, email: str, role: str
) -> dict[str, Any]:
    """List the person with `email` on a document with a document role, as `actor` (someone
    outside the workspace becomes a guest); returns the 201 body."""
    response = await client.post(
        f"/api/v1/documents/{document_id}/members",
        json={"email": email, "role": role},
        headers=actor.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
