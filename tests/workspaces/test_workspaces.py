"""Workspaces: create, list with my role, read, update, soft delete."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from cowrite.db import unit_of_work
from cowrite.kit.events import WorkspaceDeleted
from cowrite.models import Membership, User, Workspace
from tests.support.factories import UserCtx, make_user
from tests.support.workspaces import Team, add_member, make_workspace

API = "/api/v1/workspaces"


async def test_create_makes_the_creator_owner(client: httpx.AsyncClient, user: UserCtx) -> None:
    response = await client.post(
        API, json={"name": "  Research  ", "description": "Notes"}, headers=user.headers
    )
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Research"
    assert body["description"] == "Notes"
    assert body["role"] == "owner"
    uuid.UUID(body["id"])
    assert body["created_at"].endswith(("Z", "+00:00"))

    members = await client.get(f"{API}/{body['id']}/members", headers=user.headers)
    assert members.status_code == 200
    [me] = members.json()
    assert me["user_id"] == str(user.id)
    assert me["email"] == user.email
    assert me["role"] == "owner"


async def test_collection_answers_with_a_trailing_slash_too(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    created = await client.post(f"{API}/", json={"name": "Slash"}, headers=user.headers)
    assert created.status_code == 201
    listed = await client.get(f"{API}/", headers=user.headers)
    assert listed.status_code == 200
    assert [item["id"] for item in listed.json()["items"]] == [created.json()["id"]]


async def test_list_shows_only_my_workspaces_with_my_role(
    client: httpx.AsyncClient, team: Team
) -> None:
    mine = await make_workspace(client, team.viewer, name="Viewer's own")
    response = await client.get(API, headers=team.viewer.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    roles = {item["id"]: item["role"] for item in body["items"]}
    assert roles == {team.workspace_id: "viewer", mine["id"]: "owner"}

    outsider = await client.get(API, headers=team.outsider.headers)
    assert outsider.json() == {"items": [], "next_cursor": None}


async def test_list_pages_through_every_workspace_once(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    created = {(await make_workspace(client, user))["id"] for _ in range(7)}
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        response = await client.get(API, params=params, headers=user.headers)
        assert response.status_code == 200
        body = response.json()
        assert len(body["items"]) <= 3
        seen += [item["id"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == 7
    assert set(seen) == created


@pytest.mark.parametrize(
    "params",
    [{"limit": 0}, {"limit": 201}, {"limit": "many"}, {"cursor": "x" * 513}],
)
async def test_bad_paging_is_422(
    client: httpx.AsyncClient, user: UserCtx, params: dict[str, object]
) -> None:
    response = await client.get(API, params=params, headers=user.headers)
    assert response.status_code == 422


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "WyJ4IiwgInkiXQ",
        "WyJub3QgYSB0aW1lIiwgIjAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMCJd",
    ],
)
async def test_foreign_cursor_is_400(client: httpx.AsyncClient, user: UserCtx, cursor: str) -> None:
    response = await client.get(API, params={"cursor": cursor}, headers=user.headers)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 201},
        {"name": 5},
        {"name": "ok", "description": "d" * 5001},
        {"name": "ok", "owner_id": str(uuid.uuid4())},
    ],
)
async def test_bad_create_bodies_are_422(
    client: httpx.AsyncClient, user: UserCtx, body: dict[str, object]
) -> None:
    response = await client.post(API, json=body, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_get_answers_with_the_callers_role(client: httpx.AsyncClient, team: Team) -> None:
    for role, member in team.members.items():
        response = await client.get(f"{API}/{team.workspace_id}", headers=member.headers)
        assert response.status_code == 200
        assert response.json()["role"] == role


async def test_update_by_admin_and_partial(client: httpx.AsyncClient, team: Team) -> None:
    url = f"{API}/{team.workspace_id}"
    response = await client.patch(
        url, json={"name": "Renamed", "description": "About"}, headers=team.admin.headers
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response.json()["role"] == "admin"

    response = await client.patch(url, json={"description": None}, headers=team.owner.headers)
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == ("Renamed", None)

    response = await client.patch(url, json={"name": "By editor"}, headers=team.editor.headers)
    assert response.status_code == 403
    assert (await client.get(url, headers=team.viewer.headers)).json()["name"] == "Renamed"


@pytest.mark.parametrize("body", [{"name": None}, {"name": ""}, {"extra": 1}, {"name": []}])
async def test_bad_update_bodies_are_422(
    client: httpx.AsyncClient, team: Team, body: dict[str, object]
) -> None:
    response = await client.patch(
        f"{API}/{team.workspace_id}", json=body, headers=team.owner.headers
    )
    assert response.status_code == 422


async def test_only_the_owner_deletes(client: httpx.AsyncClient, team: Team) -> None:
    url = f"{API}/{team.workspace_id}"
    for role in ("viewer", "editor", "admin"):
        response = await client.delete(url, headers=team.member(role).headers)
        assert response.status_code == 403, role
    assert (await client.delete(url, headers=team.outsider.headers)).status_code == 404
    assert (await client.get(url, headers=team.viewer.headers)).status_code == 200


async def test_soft_delete_hides_everything_in_it(
    client: httpx.AsyncClient, team: Team, events: list[object]
) -> None:
    url = f"{API}/{team.workspace_id}"
    response = await client.delete(url, headers=team.owner.headers)
    assert response.status_code == 204
    assert events == [WorkspaceDeleted(workspace_id=uuid.UUID(team.workspace_id))]

    newcomer = await make_user(client)
    for member in team.members.values():
        for method, path, body in [
            ("GET", url, None),
            ("PATCH", url, {"name": "Back"}),
            ("DELETE", url, None),
            ("GET", f"{url}/members", None),
            ("POST", f"{url}/members", {"email": newcomer.email, "role": "viewer"}),
            ("PATCH", f"{url}/members/{team.viewer.id}", {"role": "editor"}),
            ("DELETE", f"{url}/members/{member.id}", None),
            ("POST", f"{url}/transfer-ownership", {"user_id": str(team.admin.id)}),
        ]:
            response = await client.request(method, path, json=body, headers=member.headers)
            assert response.status_code == 404, (method, path, response.text)
        listed = await client.get(API, headers=member.headers)
        assert team.workspace_id not in [item["id"] for item in listed.json()["items"]]
    assert len(events) == 1


async def test_other_workspaces_survive_a_delete(client: httpx.AsyncClient, team: Team) -> None:
    kept = await make_workspace(client, team.owner, name="Kept")
    await add_member(client, kept["id"], team.owner, team.viewer, "viewer")
    assert (
        await client.delete(f"{API}/{team.workspace_id}", headers=team.owner.headers)
    ).status_code == 204
    response = await client.get(f"{API}/{kept['id']}", headers=team.viewer.headers)
    assert response.status_code == 200
    assert response.json()["role"] == "viewer"


@pytest.mark.parametrize(
    ("workspace_id", "status"),
    [("not-a-uuid", 422), ("1", 422), ("00000000-0000-4000-8000-000000000000", 404)],
)
async def test_unknown_or_malformed_ids(
    client: httpx.AsyncClient, user: UserCtx, workspace_id: str, status: int
) -> None:
    response = await client.get(f"{API}/{workspace_id}", headers=user.headers)
    assert response.status_code == status
    if status == 404:
        assert response.json() == {"detail": "Workspace not found", "code": "not_found"}


async def _page_all(client: httpx.AsyncClient, url: str, user: UserCtx, limit: int) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = await client.get(url, params=params, headers=user.headers)
        if url.endswith("/members"):  # a bare array; the next page's cursor is in a header
            seen += [item["user_id"] for item in response.json()]
            cursor = response.headers.get("X-Next-Cursor")
        else:
            seen += [item["id"] for item in response.json()["items"]]
            cursor = response.json()["next_cursor"]
        if cursor is None:
            return seen


async def test_pages_hold_when_timestamps_tie(
    app: FastAPI, client: httpx.AsyncClient, user: UserCtx
) -> None:
    """Rows made in the same microsecond are ordered by id, so no page skips or repeats one."""
    moment = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    workspace_ids = [uuid.uuid4() for _ in range(5)]
    user_ids = [uuid.uuid4() for _ in range(4)]
    async with unit_of_work(app.state.cowrite.session_factory) as session:
        session.add_all(
            Workspace(id=workspace_id, name="Tie", created_at=moment)
            for workspace_id in workspace_ids
        )
        session.add_all(
            User(id=member_id, email=f"{member_id}@example.com", full_name="T", password_hash="-")
            for member_id in user_ids
        )
        await session.flush()
        session.add_all(
            Membership(workspace_id=workspace_id, user_id=user.id, role="viewer", joined_at=moment)
            for workspace_id in workspace_ids
        )
        session.add_all(
            Membership(
                workspace_id=workspace_ids[0], user_id=member_id, role="editor", joined_at=moment
            )
            for member_id in user_ids
        )
    listed = await _page_all(client, API, user, limit=2)
    assert sorted(listed) == sorted(str(workspace_id) for workspace_id in workspace_ids)
    members = await _page_all(client, f"{API}/{workspace_ids[0]}/members", user, limit=2)
    assert sorted(members) == sorted(str(member_id) for member_id in [*user_ids, user.id])
