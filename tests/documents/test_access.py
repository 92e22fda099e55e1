"""Restricted documents, the people listed on them, and guests, as their users see them."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from cowrite.documents.visibility import effective_role, visible_to
from cowrite.models import Document, DocumentMember, Membership, User, Workspace
from cowrite.state import AppState
from tests.support.documents import list_on_document, restrict_document
from tests.support.factories import UserCtx, make_user
from tests.support.workspaces import Team

DOCS = "/api/v1/workspaces/{}/documents"


async def _json(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _document(
    client: httpx.AsyncClient, team: Team, title: str, *, restricted: bool = False
) -> dict[str, Any]:
    url = DOCS.format(team.workspace_id)
    body = {"title": title, "content": f"{title} says marmalade", "tags": ["shared"]}
    document = await _json(await client.post(url, json=body, headers=team.owner.headers), 201)
    if restricted:
        document = await restrict_document(client, team.owner, document["id"])
    return dict(document)


async def _titles(client: httpx.AsyncClient, team: Team, who: UserCtx) -> set[str]:
    page = await _json(await client.get(DOCS.format(team.workspace_id), headers=who.headers))
    return {item["title"] for item in page["items"]}


async def _search(client: httpx.AsyncClient, who: UserCtx) -> set[str]:
    answer = await client.get("/api/v1/search", params={"q": "marmalade"}, headers=who.headers)
    return {hit["title"] for hit in (await _json(answer))["items"]}


async def test_a_restricted_document_is_hidden_from_unlisted_members_everywhere(
    client: httpx.AsyncClient, team: Team
) -> None:
    await _document(client, team, "Open")
    secret = await _document(client, team, "Secret", restricted=True)
    assert secret["visibility"] == "restricted"
    await list_on_document(client, team.owner, secret["id"], team.viewer.email, "viewer")
    url = f"/api/v1/documents/{secret['id']}"

    # The editor is not listed: the document does not exist for them, wherever they look.
    assert (await client.get(url, headers=team.editor.headers)).status_code == 404
    assert await _titles(client, team, team.editor) == {"Open"}
    assert await _search(client, team.editor) == {"Open"}
    tags = await client.get(
        f"/api/v1/workspaces/{team.workspace_id}/tags", headers=team.editor.headers
    )
    assert await _json(tags) == [{"name": "shared", "count": 1}]
    comments = await client.get(f"{url}/comments", headers=team.editor.headers)
    assert comments.status_code == 404

    # The listed viewer and the admin see it, and lists and counts say so.
    for who in (team.viewer, team.admin):
        assert (await client.get(url, headers=who.headers)).status_code == 200
        assert await _titles(client, team, who) == {"Open", "Secret"}
        assert await _search(client, who) == {"Open", "Secret"}
    viewer_doc = await _json(await client.get(url, headers=team.viewer.headers))
    assert viewer_doc["role"] == "viewer" and viewer_doc["visibility"] == "restricted"

    # Opened again, it is everyone's.
    opened = await client.patch(url, json={"visibility": "workspace"}, headers=team.owner.headers)
    assert (await _json(opened))["visibility"] == "workspace"
    assert await _titles(client, team, team.editor) == {"Open", "Secret"}


async def test_the_document_role_decides_what_a_listed_member_may_do(
    client: httpx.AsyncClient, team: Team
) -> None:
    secret = await _document(client, team, "Plan", restricted=True)
    url = f"/api/v1/documents/{secret['id']}"
    # A workspace viewer listed as an editor edits; a workspace editor listed as a viewer reads.
    await list_on_document(client, team.owner, secret["id"], team.viewer.email, "editor")
    await list_on_document(client, team.owner, secret["id"], team.editor.email, "viewer")
    edit = {"content": "Plan, edited"}
    assert (await client.patch(url, json=edit, headers=team.viewer.headers)).status_code == 200
    assert (await client.patch(url, json=edit, headers=team.editor.headers)).status_code == 403
    note = {"body": "A note", "anchor": {"from": 0, "to": 4}}
    refused = await client.post(f"{url}/comments", json=note, headers=team.editor.headers)
    assert refused.status_code == 403
    # Raised to commenter, the editor may comment but still not edit.
    member = f"{url}/members/{team.editor.id}"
    raised = await client.patch(member, json={"role": "commenter"}, headers=team.viewer.headers)
    assert (await _json(raised))["role"] == "commenter"
    assert (
        await client.post(f"{url}/comments", json=note, headers=team.editor.headers)
    ).status_code == 201
    assert (await client.patch(url, json=edit, headers=team.editor.headers)).status_code == 403
    # Taken off the list, the document is gone for them.
    assert (await client.delete(member, headers=team.viewer.headers)).status_code == 204
    assert (await client.get(url, headers=team.editor.headers)).status_code == 404


async def test_restricting_keeps_it_for_whoever_restricts_it(
    client: httpx.AsyncClient, team: Team
) -> None:
    document = await _document(client, team, "Mine")
    url = f"/api/v1/documents/{document['id']}"
    restricted = await client.patch(
        url, json={"visibility": "restricted"}, headers=team.editor.headers
    )
    assert (await _json(restricted))["visibility"] == "restricted"
    people = await _json(await client.get(f"{url}/members", headers=team.editor.headers))
    assert [(p["email"], p["role"], p["guest"]) for p in people] == [
        (team.editor.email, "editor", False)
    ]
    # A viewer of the document may not change who sees it.
    await list_on_document(client, team.editor, document["id"], team.commenter.email, "viewer")
    change = await client.patch(
        url, json={"visibility": "workspace"}, headers=team.commenter.headers
    )
    assert change.status_code == 403


async def test_a_guest_sees_the_documents_they_are_listed_on_and_nothing_else(
    client: httpx.AsyncClient, team: Team
) -> None:
    guest = team.outsider
    await _document(client, team, "Open")
    shared = await _document(client, team, "Shared", restricted=True)
    listed = await list_on_document(client, team.owner, shared["id"], guest.email, "commenter")
    assert listed["guest"] is True and listed["workspace_role"] is None
    url = f"/api/v1/documents/{shared['id']}"

    document = await _json(await client.get(url, headers=guest.headers))
    assert document["title"] == "Shared" and document["role"] == "commenter"
    note = {"body": "From outside", "anchor": {"from": 0, "to": 6}}
    assert (
        await client.post(f"{url}/comments", json=note, headers=guest.headers)
    ).status_code == 201
    assert (
        await client.patch(url, json={"title": "Mine"}, headers=guest.headers)
    ).status_code == 403
    assert await _search(client, guest) == {"Shared"}

    # Every workspace route is 404 for a guest: the workspace, its members, its documents.
    workspace = f"/api/v1/workspaces/{team.workspace_id}"
    for path in ("", "/members", "/documents", "/tags", "/files"):
        answer = await client.get(f"{workspace}{path}", headers=guest.headers)
        assert answer.status_code == 404, path
    mine = await _json(await client.get("/api/v1/workspaces", headers=guest.headers))
    assert mine["items"] == []


async def test_shared_with_me_lists_what_a_person_is_listed_on(
    client: httpx.AsyncClient, team: Team
) -> None:
    """A guest's home: the documents they are listed on, newest first, page by page; a document
    that is trashed or that they are taken off leaves the list."""
    guest = team.outsider
    url = "/api/v1/users/me/shared-documents"
    assert (await _json(await client.get(url, headers=guest.headers)))["items"] == []
    titles = ["First", "Second", "Third"]
    shared = {}
    for title in titles:
        document = await _document(client, team, title, restricted=True)
        await list_on_document(client, team.owner, document["id"], guest.email, "viewer")
        shared[title] = document
    await list_on_document(client, team.owner, shared["Second"]["id"], team.viewer.email, "editor")
    await _document(client, team, "Not listed", restricted=True)

    first = await _json(await client.get(url, params={"limit": 2}, headers=guest.headers))
    rest = await _json(
        await client.get(
            url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=guest.headers
        )
    )
    assert rest["next_cursor"] is None
    items = first["items"] + rest["items"]
    assert [item["title"] for item in items] == ["Third", "Second", "First"]
    assert {item["workspace_id"] for item in items} == {team.workspace_id}
    assert all(item["guest"] is True and item["role"] == "viewer" for item in items)

    # A workspace member listed on a restricted document sees it there, as no guest.
    member = await _json(await client.get(url, headers=team.viewer.headers))
    assert [(i["title"], i["role"], i["guest"]) for i in member["items"]] == [
        ("Second", "editor", False)
    ]

    await client.delete(f"/api/v1/documents/{shared['First']['id']}", headers=team.owner.headers)
    taken_off = f"/api/v1/documents/{shared['Third']['id']}/members/{guest.id}"
    assert (await client.delete(taken_off, headers=team.owner.headers)).status_code == 204
    left = await _json(await client.get(url, headers=guest.headers))
    assert [item["title"] for item in left["items"]] == ["Second"]
    bad = await client.get(url, params={"cursor": "not-a-cursor"}, headers=guest.headers)
    assert bad.status_code == 400


async def test_listing_someone_is_checked(client: httpx.AsyncClient, team: Team) -> None:
    document = await _document(client, team, "Checked", restricted=True)
    url = f"/api/v1/documents/{document['id']}/members"
    headers = team.owner.headers
    # An email with no account: the person signs up first, as for a workspace invitation.
    unknown = await client.post(
        url, json={"email": "nobody@example.com", "role": "viewer"}, headers=headers
    )
    assert unknown.status_code == 404 and unknown.json()["code"] == "user_not_found"
    await list_on_document(client, team.owner, document["id"], team.viewer.email, "viewer")
    again = await client.post(
        url, json={"email": team.viewer.email, "role": "editor"}, headers=headers
    )
    assert again.status_code == 409 and again.json()["code"] == "already_listed"
    for body in (
        {"email": team.editor.email, "role": "admin"},
        {"email": team.editor.email, "user_id": str(team.editor.id), "role": "viewer"},
        {"role": "viewer"},
        {"email": "x" * 400 + "@example.com", "role": "viewer"},
    ):
        assert (await client.post(url, json=body, headers=headers)).status_code == 422, body
    by_id = await client.post(
        url, json={"user_id": str(team.editor.id), "role": "viewer"}, headers=headers
    )
    assert (await _json(by_id, 201))["email"] == team.editor.email
    missing = await client.patch(f"{url}/{uuid.uuid4()}", json={"role": "viewer"}, headers=headers)
    assert missing.status_code == 404


async def test_files_of_a_restricted_document_follow_it(
    client: httpx.AsyncClient, team: Team
) -> None:
    document = await _document(client, team, "With a file", restricted=True)
    files = f"/api/v1/workspaces/{team.workspace_id}/files"
    upload = {"file": ("secret.txt", b"secret", "text/plain")}
    stored = await _json(
        await client.post(
            files, files=upload, data={"document_id": document["id"]}, headers=team.owner.headers
        ),
        201,
    )
    loose = await _json(await client.post(files, files=upload, headers=team.owner.headers), 201)
    listing = await _json(await client.get(files, headers=team.editor.headers))
    assert [item["id"] for item in listing["items"]] == [loose["id"]]
    hidden = await client.get(f"/api/v1/files/{stored['id']}", headers=team.editor.headers)
    assert hidden.status_code == 404
    await list_on_document(client, team.owner, document["id"], team.outsider.email, "viewer")
    seen = await client.get(f"/api/v1/files/{stored['id']}/content", headers=team.outsider.headers)
    assert seen.status_code == 200 and seen.content == b"secret"
    refused = await client.post(
        files, files=upload, data={"document_id": document["id"]}, headers=team.editor.headers
    )
    assert refused.status_code == 404


async def test_nobody_is_notified_about_a_document_they_cannot_see(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    state: AppState = app.state.cowrite
    document = await _document(client, team, "Quiet", restricted=True)
    await list_on_document(client, team.owner, document["id"], team.outsider.email, "viewer")
    url = f"/api/v1/documents/{document['id']}/comments"
    mention = (
        f"@[{team.editor.full_name}](user:{team.editor.id}) and "
        f"@[{team.outsider.full_name}](user:{team.outsider.id})"
    )
    await _json(await client.post(url, json={"body": mention}, headers=team.owner.headers), 201)
    assert state.notifications is not None
    await state.notifications.idle()

    async def kinds(who: UserCtx) -> list[str]:
        page = await _json(await client.get("/api/v1/notifications", headers=who.headers))
        items = page["items"]
        return sorted(item["kind"] for item in items if item["document_id"] == document["id"])

    assert await kinds(team.editor) == []
    assert await kinds(team.outsider) == ["document_shared", "mention"]


@pytest.mark.parametrize("visibility", ["workspace", "restricted"])
async def test_the_sql_rule_and_the_row_rule_agree(
    app: FastAPI, client: httpx.AsyncClient, visibility: str
) -> None:
    """Every combination of workspace role and document role: `visible_to` (lists, search)
    keeps exactly the documents `effective_role` (single reads) gives a role on."""
    state: AppState = app.state.cowrite
    owner = await make_user(client)
    workspace_roles = [None, "viewer", "commenter", "editor", "admin", "owner"]
    document_roles = [None, "viewer", "commenter", "editor"]
    async with state.session_factory() as session:
        people = {}
        for pair in itertools.product(workspace_roles, document_roles):
            workspace = Workspace(name="Rule")
            session.add(workspace)
            await session.flush()
            session.add(Membership(workspace_id=workspace.id, user_id=owner.id, role="owner"))
            document = Document(workspace_id=workspace.id, title="d", visibility=visibility)
            session.add(document)
            person = User(email=f"{uuid.uuid4().hex}@example.com", full_name="P", password_hash="x")
            session.add(person)
            await session.flush()
            if pair[0] is not None:
                session.add(Membership(workspace_id=workspace.id, user_id=person.id, role=pair[0]))
            if pair[1] is not None:
                session.add(
                    DocumentMember(document_id=document.id, user_id=person.id, role=pair[1])
                )
            people[pair] = (person.id, document.id)
        await session.commit()
        for (workspace_role, document_role), (person_id, document_id) in people.items():
            seen = await session.execute(
                select(Document.id).where(Document.id == document_id, visible_to(person_id))
            )
            expected = effective_role(visibility, workspace_role, document_role)
            assert (seen.scalar_one_or_none() is not None) == (expected is not None), (
                workspace_role,
                document_role,
            )


async def test_leaving_the_workspace_takes_someone_off_its_documents(
    client: httpx.AsyncClient, team: Team
) -> None:
    """A member removed from the workspace does not stay on its documents as a guest."""
    secret = await _document(client, team, "Kept", restricted=True)
    await list_on_document(client, team.owner, secret["id"], team.editor.email, "editor")
    url = f"/api/v1/workspaces/{team.workspace_id}/members/{team.editor.id}"
    assert (await client.delete(url, headers=team.owner.headers)).status_code == 204
    document = f"/api/v1/documents/{secret['id']}"
    assert (await client.get(document, headers=team.editor.headers)).status_code == 404
    people = await _json(await client.get(f"{document}/members", headers=team.owner.headers))
    assert people == []
