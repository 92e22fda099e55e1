"""Build workspaces and teams through the public API, as a client would.

`make_team(client)` gives a workspace with one user per role plus an outsider, the usual cast
of an authorization test:

    team = await make_team(client)
    url = f"/api/v1/workspaces/{team.workspace_id}"
    response = await client.get(url, headers=team.viewer.headers)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.factories import UserCtx, make_user

ROLES = ("viewer", "commenter", "editor", "admin", "owner")


async def make_workspace(
    client: httpx.AsyncClient,
    owner: UserCtx,
    *,
    name: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Create a workspace as `owner`; returns the 201 body (`id`, `name`, `role`: "owner", ...)."""
    body: dict[str, Any] = {"name": name or f"Workspace {uuid.uuid4().hex[:6]}"}
    if description is not None:
        body["description"] = description
    response = await client.post("/api/v1/workspaces", json=body, headers=owner.headers)
    assert response.status_code == 201, response.text
    workspace: dict[str, Any] = response.json()
    return workspace


async def add_member(
    client: httpx.AsyncClient,
    workspace_id: str | uuid.UUID,
    owner: UserCtx,
    member: UserCtx,
    role: str,
) -> dict[str, Any]:
    """Add `member` with `role`, acting as `owner` (or any admin allowed to grant it)."""
    response = await client.post(
        f"/api/v1/workspaces/{workspace_id}/members",
        json={"email": member.email, "role": role},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    membership: dict[str, Any] = response.json()
    return membership


async def set_role(
    client: httpx.AsyncClient,
    workspace_id: str | uuid.UUID,
    actor: UserCtx,
    member: UserCtx,
    role: str,
) -> dict[str, Any]:
    """Change `member`'s role, acting as `actor`."""
    response = await client.patch(
        f"/api/v1/workspaces/{workspace_id}/members/{member.id}",
        json={"role": role},
        headers=actor.headers,
    )
    assert response.status_code == 200, response.text
    membership: dict[str, Any] = response.json()
    return membership


@dataclass
class Team:
    """A workspace with one member per role, and a user who belongs to none of it."""

    workspace_id: str
    owner: UserCtx
    admin: UserCtx
    editor: UserCtx
    viewer: UserCtx
    commenter: UserCtx
    outsider: UserCtx

    def member(self, role: str) -> UserCtx:
        """The team's user holding `role` ("viewer" ... "owner")."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        user: UserCtx = getattr(self, role)
        return user

    @property
    def members(self) -> dict[str, UserCtx]:
        return {role: self.member(role) for role in ROLES}


async def make_team(
    client: httpx.AsyncClient, *, name: str | None = None, owner: UserCtx | None = None
) -> Team:
    """A fresh workspace owned by `owner` (a new user if None) with an admin, editor, commenter
    and viewer."""
    owner = owner or await make_user(client, full_name="Olive Owner")
    workspace = await make_workspace(client, owner, name=name)
    users: dict[str, UserCtx] = {"owner": owner}
    for role, full_name in (
        ("admin", "Ada Admin"),
        ("editor", "Eddie Editor"),
        ("viewer", "Vera Viewer"),
        ("commenter", "Cora Commenter"),
    ):
        users[role] = await make_user(client, full_name=full_name)
        await add_member(client, workspace["id"], owner, users[role], role)
    outsider = await make_user(client, full_name="Otto Outsider")
    return Team(workspace_id=workspace["id"], outsider=outsider, **users)


async def add_team(client: httpx.AsyncClient, team: Team, *, name: str | None = None) -> str:
    """Another workspace with the same people in the same roles (the outsider stays out).

    For tests that mutate the workspace itself (delete it, transfer it) without disturbing `team`.
    """
    workspace = await make_workspace(client, team.owner, name=name)
    for role in ("admin", "editor", "commenter", "viewer"):
        await add_member(client, workspace["id"], team.owner, team.member(role), role)
    workspace_id: str = workspace["id"]
    return workspace_id
