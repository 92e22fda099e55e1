"""Notifications over REST: made from workspace and document events, read, followed, set."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from tests.notifications.conftest import about_documents, inbox, settled, unread
from tests.support.documents import create_document
from tests.support.factories import make_user
from tests.support.workspaces import Team, add_member, set_role


async def edit(client: httpx.AsyncClient, user: object, document_id: str, content: str) -> None:
    response = await client.patch(
        f"/api/v1/documents/{document_id}",
        json={"content": content},
        headers=user.headers,  # type: ignore[attr-defined]
    )
    assert response.status_code == 200, response.text


async def test_joining_and_role_changes_notify_the_member_not_the_actor(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    newcomer = await make_user(client, full_name="Nina Newcomer")
    await add_member(client, team.workspace_id, team.admin, newcomer, "viewer")
    await set_role(client, team.workspace_id, team.owner, newcomer, "editor")
    await settled(app)

    kinds = [(n["kind"], n["actor"]["full_name"]) for n in await inbox(client, newcomer)]
    assert kinds == [("role_changed", "Olive Owner"), ("added_to_workspace", "Ada Admin")]
    [changed, added] = await inbox(client, newcomer)
    assert added["kind"] == "added_to_workspace" and "viewer" in added["excerpt"]
    assert changed["workspace_id"] == team.workspace_id
    assert changed["document_id"] is None and changed["read_at"] is None
    assert "editor" in changed["excerpt"]
    assert await unread(client, newcomer) == 2
    # The actors hear nothing of their own actions.
    assert [n["kind"] for n in await inbox(client, team.owner)] == []


async def test_edits_by_others_notify_followers_once_per_window(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id, title="Roadmap")
    follow = await client.put(
        f"/api/v1/documents/{document['id']}/subscription", headers=team.viewer.headers
    )
    assert follow.json() == {"following": True}
    await settled(app)

    await edit(client, team.owner, document["id"], "first change")
    await settled(app)
    [for_editor] = await about_documents(client, team.editor)
    assert for_editor["kind"] == "document_updated"
    assert for_editor["document_id"] == document["id"]
    assert for_editor["title"] == "Roadmap"
    assert for_editor["actor"]["full_name"] == "Olive Owner"
    assert [n["kind"] for n in await about_documents(client, team.viewer)] == ["document_updated"]
    assert await about_documents(client, team.owner) == []  # not about one's own edit

    # Another edit within the window folds into the same notification, naming the latest editor.
    await edit(client, team.admin, document["id"], "second change")
    await settled(app)
    [folded] = await about_documents(client, team.editor)
    assert folded["id"] == for_editor["id"]
    assert folded["actor"]["full_name"] == "Ada Admin"
    # The owner edited it, so the owner follows it now and hears of the admin's edit.
    assert [n["kind"] for n in await about_documents(client, team.owner)] == ["document_updated"]


async def test_a_muted_document_sends_no_updates(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id)
    url = f"/api/v1/documents/{document['id']}/subscription"
    await settled(app)
    assert (await client.get(url, headers=team.editor.headers)).json() == {"following": True}
    assert (await client.get(url, headers=team.viewer.headers)).json() == {"following": False}
    muted = await client.delete(url, headers=team.editor.headers)
    assert muted.status_code == 200 and muted.json() == {"following": False}

    await edit(client, team.owner, document["id"], "changed while muted")
    await settled(app)
    assert await about_documents(client, team.editor) == []
    assert (await client.get(url, headers=team.editor.headers)).json() == {"following": False}


async def test_editing_a_document_one_muted_keeps_it_muted(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id)
    url = f"/api/v1/documents/{document['id']}/subscription"
    await client.delete(url, headers=team.viewer.headers)  # muted before ever following
    await client.delete(url, headers=team.editor.headers)  # the creator mutes it too
    await settled(app)

    await edit(client, team.editor, document["id"], "the creator's own edit")
    await settled(app)
    await edit(client, team.owner, document["id"], "an edit by someone else")
    await settled(app)
    # Neither hears of the owner's edit, and the editor's own edit made no follower of them.
    assert await about_documents(client, team.editor) == []
    assert await about_documents(client, team.viewer) == []
    assert (await client.get(url, headers=team.editor.headers)).json() == {"following": False}
    # The owner had no subscription: their edit makes them follow it.
    assert (await client.get(url, headers=team.owner.headers)).json() == {"following": True}


async def test_nobody_hears_of_a_document_they_can_no_longer_see(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id)
    await settled(app)
    removed = await client.delete(
        f"/api/v1/workspaces/{team.workspace_id}/members/{team.editor.id}",
        headers=team.owner.headers,
    )
    assert removed.status_code == 204
    await edit(client, team.owner, document["id"], "after the editor left")
    await settled(app)
    assert await about_documents(client, team.editor) == []
    hidden = await client.get(
        f"/api/v1/documents/{document['id']}/subscription", headers=team.outsider.headers
    )
    assert hidden.status_code == 404


async def test_reading_one_and_all(app: FastAPI, client: httpx.AsyncClient, team: Team) -> None:
    member = await make_user(client)
    for _ in range(3):  # three workspaces: three notifications
        workspace = await client.post(
            "/api/v1/workspaces", json={"name": "More"}, headers=team.owner.headers
        )
        await add_member(client, workspace.json()["id"], team.owner, member, "viewer")
    await settled(app)
    newest, middle, oldest = await inbox(client, member)
    assert newest["created_at"] >= middle["created_at"] >= oldest["created_at"]

    page = await client.get("/api/v1/notifications", params={"limit": 2}, headers=member.headers)
    assert [n["id"] for n in page.json()["items"]] == [newest["id"], middle["id"]]
    rest = await client.get(
        "/api/v1/notifications",
        params={"limit": 2, "cursor": page.json()["next_cursor"]},
        headers=member.headers,
    )
    assert [n["id"] for n in rest.json()["items"]] == [oldest["id"]]
    assert rest.json()["next_cursor"] is None

    read = await client.post(f"/api/v1/notifications/{middle['id']}/read", headers=member.headers)
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert await unread(client, member) == 2
    assert [n["id"] for n in await inbox(client, member, unread="true")] == [
        newest["id"],
        oldest["id"],
    ]

    # Someone else's notification does not exist for the caller.
    theirs = await client.post(
        f"/api/v1/notifications/{newest['id']}/read", headers=team.viewer.headers
    )
    assert theirs.status_code == 404
    missing = await client.post(
        f"/api/v1/notifications/{uuid.uuid4()}/read", headers=member.headers
    )
    assert missing.status_code == 404
    assert await unread(client, member) == 2

    some = await client.post(
        "/api/v1/notifications/read-all",
        json={"before": oldest["created_at"]},
        headers=member.headers,
    )
    assert some.json() == {"updated": 1}
    assert [n["id"] for n in await inbox(client, member, unread="true")] == [newest["id"]]
    everything = await client.post("/api/v1/notifications/read-all", headers=member.headers)
    assert everything.json() == {"updated": 1}
    assert await unread(client, member) == 0


async def test_settings(client: httpx.AsyncClient, team: Team) -> None:
    url = "/api/v1/users/me/notification-settings"
    defaults = (await client.get(url, headers=team.viewer.headers)).json()
    assert defaults["email_delay_minutes"] == 5
    assert set(defaults["email"]) == {
        "mention",
        "reply",
        "comment",
        "document_updated",
        "added_to_workspace",
        "role_changed",
        "document_shared",
        "webhook_turned_off",
    }
    assert defaults["email"]["mention"] is True

    changed = await client.patch(
        url,
        json={"email": {"mention": False}, "email_delay_minutes": 30},
        headers=team.viewer.headers,
    )
    assert changed.status_code == 200
    assert changed.json()["email"]["mention"] is False
    assert changed.json()["email"]["reply"] is True
    again = (await client.get(url, headers=team.viewer.headers)).json()
    assert again == changed.json()
    # Each person has their own.
    assert (await client.get(url, headers=team.editor.headers)).json() == defaults

    unknown = await client.patch(
        url, json={"email": {"carrier_pigeon": True}}, headers=team.viewer.headers
    )
    assert unknown.status_code == 422
    negative = await client.patch(
        url, json={"email_delay_minutes": -1}, headers=team.viewer.headers
    )
    assert negative.status_code == 422
    assert (await client.get(url, headers=team.viewer.headers)).json() == again


async def test_restoring_a_version_is_an_edit_followers_hear_of(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id, content="first")
    await settled(app)
    restored = await client.post(
        f"/api/v1/documents/{document['id']}/versions/1/restore", headers=team.admin.headers
    )
    assert restored.status_code == 200, restored.text
    await settled(app)
    [notification] = await about_documents(client, team.editor)
    assert notification["kind"] == "document_updated"
    assert notification["actor"]["full_name"] == "Ada Admin"
