"""Members and roles: who may add, change and remove whom, and the owner invariants."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI

from cowrite.db import unit_of_work
from cowrite.kit.events import MembershipChanged
from cowrite.workspaces.access import role_in_workspace
from tests.support.factories import UserCtx, make_user
from tests.support.workspaces import Team, add_member, make_workspace, set_role

API = "/api/v1/workspaces"


def members_url(team: Team, user: UserCtx | None = None) -> str:
    url = f"{API}/{team.workspace_id}/members"
    return f"{url}/{user.id}" if user else url


async def roles_of(
    client: httpx.AsyncClient, team: Team, as_user: UserCtx | None = None
) -> dict[str, str]:
    response = await client.get(members_url(team), headers=(as_user or team.owner).headers)
    assert response.status_code == 200
    return {item["email"]: item["role"] for item in response.json()}


def changed(team: Team, user: UserCtx, role: str | None) -> MembershipChanged:
    return MembershipChanged(uuid.UUID(team.workspace_id), user.id, role)


async def test_members_list_shows_everyone_in_join_order(
    client: httpx.AsyncClient, team: Team
) -> None:
    response = await client.get(members_url(team), headers=team.viewer.headers)
    assert response.status_code == 200
    items = response.json()
    assert [(item["user_id"], item["role"]) for item in items] == [
        (str(team.owner.id), "owner"),
        (str(team.admin.id), "admin"),
        (str(team.editor.id), "editor"),
        (str(team.viewer.id), "viewer"),
        (str(team.commenter.id), "commenter"),
    ]
    assert set(items[0]) == {"user_id", "email", "full_name", "role", "joined_at"}
    assert items[1]["full_name"] == "Ada Admin"


async def test_members_list_pages(client: httpx.AsyncClient, team: Team) -> None:
    for _ in range(3):
        await add_member(client, team.workspace_id, team.owner, await make_user(client), "viewer")
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(members_url(team), params=params, headers=team.editor.headers)
        body = response.json()
        assert isinstance(body, list)
        assert len(body) <= 2
        seen += [item["user_id"] for item in body]
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 8


async def test_add_member_by_email(
    client: httpx.AsyncClient, team: Team, events: list[object]
) -> None:
    newcomer = await make_user(client, full_name="Nina New")
    response = await client.post(
        members_url(team),
        json={"email": newcomer.email.upper(), "role": "editor"},
        headers=team.admin.headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["user_id"] == str(newcomer.id)
    assert (body["email"], body["full_name"], body["role"]) == (
        newcomer.email,
        "Nina New",
        "editor",
    )
    assert events == [changed(team, newcomer, "editor")]
    workspace = await client.get(f"{API}/{team.workspace_id}", headers=newcomer.headers)
    assert workspace.json()["role"] == "editor"


async def test_add_member_errors(client: httpx.AsyncClient, team: Team) -> None:
    url = members_url(team)
    unknown = await client.post(
        url, json={"email": "nobody@example.com", "role": "viewer"}, headers=team.owner.headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "user_not_found"
    again = await client.post(
        url, json={"email": team.viewer.email, "role": "editor"}, headers=team.owner.headers
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_member"
    assert (await roles_of(client, team))[team.viewer.email] == "viewer"


@pytest.mark.parametrize(
    "body",
    [
        {"email": "x@example.com"},
        {"email": "x@example.com", "role": "superuser"},
        {"email": "not an email", "role": "viewer"},
        {"email": "x@example.com", "role": "viewer", "user_id": "1"},
        {"role": "viewer"},
    ],
)
async def test_bad_member_bodies_are_422(
    client: httpx.AsyncClient, team: Team, body: dict[str, str]
) -> None:
    response = await client.post(members_url(team), json=body, headers=team.owner.headers)
    assert response.status_code == 422


async def test_only_an_owner_grants_owner(client: httpx.AsyncClient, team: Team) -> None:
    newcomer = await make_user(client)
    body = {"email": newcomer.email, "role": "owner"}
    denied = await client.post(members_url(team), json=body, headers=team.admin.headers)
    assert denied.status_code == 403
    assert denied.json()["code"] == "owner_required"
    promote = await client.patch(
        members_url(team, team.editor), json={"role": "owner"}, headers=team.admin.headers
    )
    assert promote.status_code == 403
    granted = await client.post(members_url(team), json=body, headers=team.owner.headers)
    assert granted.status_code == 201
    assert granted.json()["role"] == "owner"


async def test_admin_manages_non_owners(client: httpx.AsyncClient, team: Team) -> None:
    second_admin = await make_user(client)
    await add_member(client, team.workspace_id, team.admin, second_admin, "admin")
    await set_role(client, team.workspace_id, team.admin, second_admin, "viewer")
    await set_role(client, team.workspace_id, team.admin, team.viewer, "editor")
    removed = await client.delete(members_url(team, second_admin), headers=team.admin.headers)
    assert removed.status_code == 204
    assert second_admin.email not in await roles_of(client, team)


async def test_admin_cannot_touch_an_owner(client: httpx.AsyncClient, team: Team) -> None:
    demote = await client.patch(
        members_url(team, team.owner), json={"role": "viewer"}, headers=team.admin.headers
    )
    assert demote.status_code == 403
    remove = await client.delete(members_url(team, team.owner), headers=team.admin.headers)
    assert remove.status_code == 403
    assert (await roles_of(client, team))[team.owner.email] == "owner"


@pytest.mark.parametrize("role", ["viewer", "editor"])
async def test_below_admin_cannot_manage_members(
    client: httpx.AsyncClient, team: Team, role: str
) -> None:
    actor = team.member(role)
    newcomer = await make_user(client)
    add = await client.post(
        members_url(team), json={"email": newcomer.email, "role": "viewer"}, headers=actor.headers
    )
    change = await client.patch(
        members_url(team, team.viewer if role == "editor" else team.editor),
        json={"role": "viewer"},
        headers=actor.headers,
    )
    remove = await client.delete(members_url(team, team.admin), headers=actor.headers)
    assert (add.status_code, change.status_code, remove.status_code) == (403, 403, 403)


@pytest.mark.parametrize(("role", "higher"), [("admin", "owner"), ("viewer", "editor")])
async def test_nobody_raises_their_own_role(
    client: httpx.AsyncClient, team: Team, role: str, higher: str
) -> None:
    me = team.member(role)
    response = await client.patch(members_url(team, me), json={"role": higher}, headers=me.headers)
    assert response.status_code == 403
    assert (await roles_of(client, team))[me.email] == role


async def test_a_member_may_lower_their_own_role(client: httpx.AsyncClient, team: Team) -> None:
    response = await client.patch(
        members_url(team, team.admin), json={"role": "editor"}, headers=team.admin.headers
    )
    assert response.status_code == 200
    assert response.json()["role"] == "editor"


async def test_the_last_owner_stays(client: httpx.AsyncClient, team: Team) -> None:
    leave = await client.delete(members_url(team, team.owner), headers=team.owner.headers)
    assert leave.status_code == 409
    assert leave.json()["code"] == "last_owner"
    demote = await client.patch(
        members_url(team, team.owner), json={"role": "admin"}, headers=team.owner.headers
    )
    assert demote.status_code == 409
    assert (await roles_of(client, team))[team.owner.email] == "owner"


async def test_a_second_owner_lets_the_first_go(
    client: httpx.AsyncClient, team: Team, events: list[object]
) -> None:
    await set_role(client, team.workspace_id, team.owner, team.admin, "owner")
    leave = await client.delete(members_url(team, team.owner), headers=team.owner.headers)
    assert leave.status_code == 204
    assert events == [changed(team, team.admin, "owner"), changed(team, team.owner, None)]
    # Now the former admin is the last owner.
    last = await client.delete(members_url(team, team.admin), headers=team.admin.headers)
    assert last.status_code == 409
    gone = await client.get(f"{API}/{team.workspace_id}", headers=team.owner.headers)
    assert gone.status_code == 404


async def test_an_owner_may_demote_another_owner(client: httpx.AsyncClient, team: Team) -> None:
    await set_role(client, team.workspace_id, team.owner, team.admin, "owner")
    await set_role(client, team.workspace_id, team.owner, team.admin, "viewer")
    assert (await roles_of(client, team))[team.admin.email] == "viewer"


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
async def test_any_member_may_leave(
    client: httpx.AsyncClient, team: Team, events: list[object], role: str
) -> None:
    me = team.member(role)
    response = await client.delete(members_url(team, me), headers=me.headers)
    assert response.status_code == 204
    assert events == [changed(team, me, None)]
    assert (await client.get(f"{API}/{team.workspace_id}", headers=me.headers)).status_code == 404
    listed = await client.get(API, headers=me.headers)
    assert listed.json()["items"] == []


async def test_same_role_is_a_quiet_no_op(
    client: httpx.AsyncClient, team: Team, events: list[object]
) -> None:
    body = await set_role(client, team.workspace_id, team.owner, team.editor, "editor")
    assert body["role"] == "editor"
    assert events == []


async def test_unknown_member_is_404(client: httpx.AsyncClient, team: Team) -> None:
    stranger = team.outsider
    change = await client.patch(
        members_url(team, stranger), json={"role": "viewer"}, headers=team.owner.headers
    )
    remove = await client.delete(members_url(team, stranger), headers=team.owner.headers)
    assert (change.status_code, remove.status_code) == (404, 404)
    assert change.json()["code"] == "member_not_found"


async def test_role_change_takes_effect_on_the_next_request(
    client: httpx.AsyncClient, team: Team, events: list[object]
) -> None:
    workspace_url = f"{API}/{team.workspace_id}"
    rename = {"name": "By the editor"}
    assert (
        await client.patch(workspace_url, json=rename, headers=team.editor.headers)
    ).status_code == 403
    await set_role(client, team.workspace_id, team.owner, team.editor, "admin")
    assert (
        await client.patch(workspace_url, json=rename, headers=team.editor.headers)
    ).status_code == 200
    await set_role(client, team.workspace_id, team.owner, team.editor, "viewer")
    assert (
        await client.patch(workspace_url, json=rename, headers=team.editor.headers)
    ).status_code == 403
    removed = await client.delete(members_url(team, team.editor), headers=team.admin.headers)
    assert removed.status_code == 204
    assert (await client.get(workspace_url, headers=team.editor.headers)).status_code == 404
    assert events == [
        changed(team, team.editor, "admin"),
        changed(team, team.editor, "viewer"),
        changed(team, team.editor, None),
    ]


async def test_transfer_ownership(
    client: httpx.AsyncClient, team: Team, events: list[object]
) -> None:
    url = f"{API}/{team.workspace_id}/transfer-ownership"
    response = await client.post(
        url, json={"user_id": str(team.editor.id)}, headers=team.owner.headers
    )
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    roles = await roles_of(client, team)
    assert (roles[team.editor.email], roles[team.owner.email]) == ("owner", "admin")
    assert events == [changed(team, team.editor, "owner"), changed(team, team.owner, "admin")]
    again = await client.post(
        url, json={"user_id": str(team.viewer.id)}, headers=team.owner.headers
    )
    assert again.status_code == 403


async def test_transfer_to_a_co_owner_steps_the_caller_down(
    client: httpx.AsyncClient, team: Team, events: list[object]
) -> None:
    await set_role(client, team.workspace_id, team.owner, team.admin, "owner")
    events.clear()
    response = await client.post(
        f"{API}/{team.workspace_id}/transfer-ownership",
        json={"user_id": str(team.admin.id)},
        headers=team.owner.headers,
    )
    assert response.status_code == 200
    roles = await roles_of(client, team, as_user=team.admin)
    assert (roles[team.admin.email], roles[team.owner.email]) == ("owner", "admin")
    assert events == [changed(team, team.owner, "admin")]


async def test_transfer_ownership_errors(client: httpx.AsyncClient, team: Team) -> None:
    url = f"{API}/{team.workspace_id}/transfer-ownership"
    for user_id, status, code in [
        (team.outsider.id, 404, "member_not_found"),
        (uuid.uuid4(), 404, "member_not_found"),
        (team.owner.id, 409, "transfer_to_self"),
    ]:
        response = await client.post(
            url, json={"user_id": str(user_id)}, headers=team.owner.headers
        )
        assert (response.status_code, response.json()["code"]) == (status, code)
    for body in ({}, {"user_id": "nope"}, {"user_id": str(team.admin.id), "keep": True}):
        response = await client.post(url, json=body, headers=team.owner.headers)
        assert response.status_code == 422
    assert (await roles_of(client, team))[team.owner.email] == "owner"


async def test_ids_of_another_workspace_change_nothing(
    client: httpx.AsyncClient, team: Team
) -> None:
    """A member of workspace B addressed through workspace A's routes, by an owner of both."""
    workspace_b = await make_workspace(client, team.owner, name="B")
    only_in_b = await make_user(client)
    await add_member(client, workspace_b["id"], team.owner, only_in_b, "editor")
    url = members_url(team, only_in_b)
    patch = await client.patch(url, json={"role": "viewer"}, headers=team.owner.headers)
    delete = await client.delete(url, headers=team.owner.headers)
    transfer = await client.post(
        f"{API}/{team.workspace_id}/transfer-ownership",
        json={"user_id": str(only_in_b.id)},
        headers=team.owner.headers,
    )
    assert (patch.status_code, delete.status_code, transfer.status_code) == (404, 404, 404)
    b_members = await client.get(f"{API}/{workspace_b['id']}/members", headers=team.owner.headers)
    roles = {item["user_id"]: item["role"] for item in b_members.json()}
    assert roles == {str(team.owner.id): "owner", str(only_in_b.id): "editor"}
    assert only_in_b.email not in await roles_of(client, team)


async def test_a_refused_change_emits_nothing(
    client: httpx.AsyncClient, team: Team, events: list[object]
) -> None:
    leave = await client.delete(members_url(team, team.owner), headers=team.owner.headers)
    demote = await client.patch(
        members_url(team, team.owner), json={"role": "viewer"}, headers=team.admin.headers
    )
    again = await client.post(
        members_url(team),
        json={"email": team.viewer.email, "role": "admin"},
        headers=team.owner.headers,
    )
    assert (leave.status_code, demote.status_code, again.status_code) == (409, 403, 409)
    assert events == []


async def test_listeners_hear_of_a_change_once_it_is_committed(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    state = app.state.cowrite
    seen_by_listener: list[str | None] = []

    async def listener(event: MembershipChanged) -> None:
        # A fresh unit of work, as a socket handler would open: it must see the new role.
        async with unit_of_work(state.session_factory) as session:
            role = await role_in_workspace(session, event.user_id, event.workspace_id)
        seen_by_listener.append(role.value if role else None)

    state.events.subscribe(MembershipChanged, listener)
    try:
        await set_role(client, team.workspace_id, team.owner, team.viewer, "admin")
        await client.delete(members_url(team, team.viewer), headers=team.owner.headers)
    finally:
        state.events.unsubscribe(MembershipChanged, listener)
    assert seen_by_listener == ["admin", None]


@pytest.mark.parametrize("action", ["leave", "demote each other"])
async def test_two_owners_stepping_down_at_once_leave_one_owner(
    client: httpx.AsyncClient, team: Team, action: str
) -> None:
    await set_role(client, team.workspace_id, team.owner, team.admin, "owner")
    first, second = team.owner, team.admin
    if action == "leave":
        calls = [
            client.delete(members_url(team, who), headers=who.headers) for who in (first, second)
        ]
    else:
        calls = [
            client.patch(members_url(team, target), json={"role": "editor"}, headers=actor.headers)
            for actor, target in ((first, second), (second, first))
        ]
    responses = await asyncio.gather(*calls)
    # Whoever comes second finds they are the last owner (409), or no longer an admin (403).
    expected = [204, 409] if action == "leave" else [200, 403]
    assert sorted(response.status_code for response in responses) == expected
    roles = await roles_of(client, team, as_user=team.viewer)
    assert list(roles.values()).count("owner") == 1
