"""Workspaces, members and documents for document, version and search tests.

Workspaces are made straight through the ORM (the workspace endpoints are another feature);
documents go through the public API, as a client would make them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.models import Membership, Workspace
from tests.support.factories import UserCtx, make_user


async def make_workspace(app: FastAPI, owner_id: uuid.UUID, name: str = "Team") -> uuid.UUID:
    async with unit_of_work(app.state.cowrite.session_factory) as session:
        workspace = Workspace(name=name, created_by=owner_id)
        session.add(workspace)
        await session.flush()
        session.add(Membership(workspace_id=workspace.id, user_id=owner_id, role="owner"))
        return workspace.id


async def add_member(app: FastAPI, workspace_id: uuid.UUID, user_id: uuid.UUID, role: str) -> None:
    async with unit_of_work(app.state.cowrite.session_factory) as session:
        session.add(Membership(workspace_id=workspace_id, user_id=user_id, role=role))


async def delete_workspace(app: FastAPI, workspace_id: uuid.UUID) -> None:
    """Soft-delete, as the workspace endpoint does."""
    async with unit_of_work(app.state.cowrite.session_factory) as session:
        workspace = await session.get(Workspace, workspace_id)
        assert workspace is not None
        workspace.deleted_at = utcnow()


@dataclass
class Team:
    """A workspace with one member per role, and someone who is not a member."""

    workspace_id: uuid.UUID
    owner: UserCtx
    admin: UserCtx
    editor: UserCtx
    viewer: UserCtx
    outsider: UserCtx

    def member(self, role: str) -> UserCtx:
        user: UserCtx = getattr(self, role)
        return user


async def make_team(app: FastAPI, client: httpx.AsyncClient) -> Team:
    owner = await make_user(client, full_name="Olive Owner")
    workspace_id = await make_workspace(app, owner.id)
    members = {}
    for role in ("admin", "editor", "viewer"):
        members[role] = await make_user(client, full_name=f"{role.title()} Member")
        await add_member(app, workspace_id, members[role].id, role)
    outsider = await make_user(client, full_name="Otto Outsider")
    return Team(
        workspace_id, owner, members["admin"], members["editor"], members["viewer"], outsider
    )


async def create_document(
    client: httpx.AsyncClient,
    user: UserCtx,
    workspace_id: uuid.UUID,
    title: str = "Notes",
    content: str = "",
    tags: list[str] | None = None,
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/workspaces/{workspace_id}/documents",
        json={"title": title, "content": content, "tags": tags or []},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
