"""Documents over REST: create, read, list, edit, tags and optimistic concurrency."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.support.documents import create_document, delete_workspace
from tests.support.workspaces import Team


def doc_url(document_id: str) -> str:
    return f"/api/v1/documents/{document_id}"


async def test_create_and_read_a_document(client: httpx.AsyncClient, team: Team) -> None:
    created = await create_document(
        client, team.editor, team.workspace_id, "  Plan  ", "# Plan\nship it", ["Roadmap"]
    )
    assert created["title"] == "Plan"
    assert created["content"] == "# Plan\nship it"
    assert created["tags"] == ["roadmap"]
    assert created["version"] == 1
    assert created["workspace_id"] == str(team.workspace_id)
    assert created["created_by"] == created["updated_by"] == str(team.editor.id)
    assert created["deleted_at"] is None
    assert created["created_at"].endswith(("Z", "+00:00"))

    response = await client.get(doc_url(created["id"]), headers=team.viewer.headers)
    assert response.status_code == 200
    # A read also says what the reader may do with the document.
    assert response.json() == {**created, "role": "viewer"}


async def test_several_tags_read_back_in_one_order(client: httpx.AsyncClient, team: Team) -> None:
    tags = ["zeta", "Alpha", "mid-year", "b 2", "b"]
    created = await create_document(client, team.editor, team.workspace_id, "Tagged", "", tags)
    assert created["tags"] == sorted({tag.lower() for tag in tags})
    response = await client.get(doc_url(created["id"]), headers=team.viewer.headers)
    assert response.json()["tags"] == created["tags"]


async def test_who_may_create_and_read(client: httpx.AsyncClient, team: Team) -> None:
    url = f"/api/v1/workspaces/{team.workspace_id}/documents"
    body = {"title": "x"}
    assert (await client.post(url, json=body, headers=team.viewer.headers)).status_code == 403
    assert (await client.post(url, json=body, headers=team.outsider.headers)).status_code == 404
    assert (await client.post(url, json=body)).status_code == 401
    document = await create_document(client, team.owner, team.workspace_id)
    response = await client.get(doc_url(document["id"]), headers=team.outsider.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    response = await client.get(doc_url(str(uuid.uuid4())), headers=team.owner.headers)
    assert response.status_code == 404


async def test_list_pages_through_documents_without_content(
    client: httpx.AsyncClient, team: Team
) -> None:
    made = [
        await create_document(client, team.editor, team.workspace_id, f"Doc {i}", "body")
        for i in range(5)
    ]
    url = f"/api/v1/workspaces/{team.workspace_id}/documents"
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(url, params=params, headers=team.viewer.headers)
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 2
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [item["id"] for item in seen] == [doc["id"] for doc in reversed(made)]
    assert all("content" not in item for item in seen)

    bad = await client.get(url, params={"cursor": "not-a-cursor"}, headers=team.viewer.headers)
    assert bad.status_code == 400
    too_many = await client.get(url, params={"limit": 201}, headers=team.viewer.headers)
    assert too_many.status_code == 422


async def test_edit_title_content_and_tags(client: httpx.AsyncClient, team: Team) -> None:
    document = await create_document(client, team.editor, team.workspace_id, "Draft", "one")
    response = await client.patch(
        doc_url(document["id"]),
        json={"title": "Final", "content": "two", "tags": ["A", " a ", "Big  Idea"]},
        headers=team.admin.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["title"], body["content"]) == ("Final", "two")
    assert sorted(body["tags"]) == ["a", "big idea"]
    assert body["version"] == 2
    assert body["updated_by"] == str(team.admin.id)

    viewer = await client.patch(
        doc_url(document["id"]), json={"title": "No"}, headers=team.viewer.headers
    )
    assert viewer.status_code == 403
    unchanged = await client.get(doc_url(document["id"]), headers=team.viewer.headers)
    assert unchanged.json()["title"] == "Final"


async def test_a_stale_base_version_is_refused(client: httpx.AsyncClient, team: Team) -> None:
    document = await create_document(client, team.editor, team.workspace_id, "Draft", "v1")
    first = await client.patch(
        doc_url(document["id"]),
        json={"content": "mine", "base_version": 1},
        headers=team.editor.headers,
    )
    assert first.status_code == 200
    assert first.json()["version"] == 2
    stale = await client.patch(
        doc_url(document["id"]),
        json={"content": "theirs", "base_version": 1},
        headers=team.admin.headers,
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    current = await client.get(doc_url(document["id"]), headers=team.editor.headers)
    assert current.json()["content"] == "mine"


async def test_tags_are_normalized_filtered_and_counted(
    client: httpx.AsyncClient, team: Team
) -> None:
    a = await create_document(client, team.editor, team.workspace_id, "A", tags=["Urgent", "x"])
    b = await create_document(client, team.editor, team.workspace_id, "B", tags=["  urgent "])
    await create_document(client, team.editor, team.workspace_id, "C")
    url = f"/api/v1/workspaces/{team.workspace_id}/documents"

    tagged = await client.get(url, params={"tag": "URGENT"}, headers=team.viewer.headers)
    assert {item["id"] for item in tagged.json()["items"]} == {a["id"], b["id"]}
    unknown = await client.get(url, params={"tag": "no such tag"}, headers=team.viewer.headers)
    assert unknown.status_code == 200
    assert unknown.json() == {"items": [], "next_cursor": None}

    tags_url = f"/api/v1/workspaces/{team.workspace_id}/tags"
    counts = await client.get(tags_url, headers=team.viewer.headers)
    assert counts.json() == [{"name": "urgent", "count": 2}, {"name": "x", "count": 1}]

    assert (await client.delete(doc_url(a["id"]), headers=team.editor.headers)).status_code == 204
    counts = await client.get(tags_url, headers=team.viewer.headers)
    assert counts.json() == [{"name": "urgent", "count": 1}]
    assert (await client.get(tags_url, headers=team.outsider.headers)).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "   "},
        {"title": "x" * 501},
        {"title": "ok", "tags": [""]},
        {"title": "ok", "tags": ["t" * 65]},
        {"title": "ok", "tags": [f"t{i}" for i in range(33)]},
        {"title": "ok", "content": "nul \u0000 inside"},
        '{"title": "lone \\ud800 surrogate"}',
        {"title": "ok", "surprise": 1},
        {"title": 5},
        {"content": "no title"},
    ],
)
async def test_bad_document_bodies_get_422(
    client: httpx.AsyncClient, team: Team, body: dict[str, Any] | str
) -> None:
    url = f"/api/v1/workspaces/{team.workspace_id}/documents"
    if isinstance(body, str):  # JSON that a Python client would refuse to encode
        headers = {**team.editor.headers, "Content-Type": "application/json"}
        response = await client.post(url, content=body.encode(), headers=headers)
    else:
        response = await client.post(url, json=body, headers=team.editor.headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


async def test_oversized_content_is_413(client: httpx.AsyncClient, team: Team) -> None:
    huge = "word " * (2 * 1024 * 1024)  # 10 MB
    url = f"/api/v1/workspaces/{team.workspace_id}/documents"
    response = await client.post(
        url, json={"title": "Big", "content": huge}, headers=team.editor.headers
    )
    assert response.status_code == 413
    assert response.json()["code"] == "document_too_large"
    document = await create_document(client, team.editor, team.workspace_id, "Small", "ok")
    response = await client.patch(
        doc_url(document["id"]), json={"content": huge}, headers=team.editor.headers
    )
    assert response.status_code == 413
    listed = await client.get(url, headers=team.editor.headers)
    assert [item["title"] for item in listed.json()["items"]] == ["Small"]


async def test_patch_bad_input(client: httpx.AsyncClient, team: Team) -> None:
    document = await create_document(client, team.editor, team.workspace_id)
    for body in ({"title": ""}, {"base_version": "x"}, {"base_version": 2**40}, {"tags": "a"}):
        response = await client.patch(
            doc_url(document["id"]), json=body, headers=team.editor.headers
        )
        assert response.status_code == 422, (body, response.text)
    response = await client.patch(
        "/api/v1/documents/not-a-uuid", json={}, headers=team.editor.headers
    )
    assert response.status_code == 422


async def test_documents_of_a_deleted_workspace_are_gone(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id)
    await delete_workspace(client, team.owner, team.workspace_id)
    response = await client.get(doc_url(document["id"]), headers=team.owner.headers)
    assert response.status_code == 404


class RecordingCollab:
    """Stands in for the co-editing service: merges by appending a concurrent edit."""

    def __init__(self) -> None:
        self.calls: list[tuple[uuid.UUID, str, uuid.UUID | None]] = []

    async def replace_text(
        self,
        session: object,
        document_id: uuid.UUID,
        text: str,
        author_id: uuid.UUID | None,
        base: str | None = None,
    ) -> str:
        assert base == "start"  # what the writer read
        self.calls.append((document_id, text, author_id))
        return text + "\n(typed meanwhile)"

    def live_markdown(self, document_id: uuid.UUID) -> str | None:
        return None  # no room open in this process

    async def stored_markdown(self, session: object, document_id: uuid.UUID) -> str:
        return "start"  # what the snapshot and the update log hold


async def test_rest_content_merges_through_the_live_session(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id, "Live", "start")
    collab = RecordingCollab()
    app.state.cowrite.collab = collab
    try:
        response = await client.patch(
            doc_url(document["id"]), json={"content": "rest write"}, headers=team.editor.headers
        )
        assert response.status_code == 200
        assert response.json()["content"] == "rest write\n(typed meanwhile)"
        assert collab.calls == [(uuid.UUID(document["id"]), "rest write", team.editor.id)]
        versions = await client.get(
            doc_url(document["id"]) + "/versions/1", headers=team.editor.headers
        )
        assert versions.json()["content"] == "rest write\n(typed meanwhile)"
    finally:
        app.state.cowrite.collab = None


async def test_concurrent_writers_from_the_same_base_version_one_wins(
    client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id, "Race", "start")

    async def write(role: str) -> httpx.Response:
        return await client.patch(
            doc_url(document["id"]),
            json={"content": f"written by {role}", "base_version": 1},
            headers=team.member(role).headers,
        )

    # Both are other authors than the creator: the winner's edit is a version of its own.
    responses = await asyncio.gather(write("admin"), write("owner"))
    assert sorted(r.status_code for r in responses) == [200, 409]
    [winner] = [r.json() for r in responses if r.status_code == 200]
    current = (await client.get(doc_url(document["id"]), headers=team.viewer.headers)).json()
    assert current["content"] == winner["content"]
    assert current["version"] == 2
    versions = await client.get(doc_url(document["id"]) + "/versions", headers=team.viewer.headers)
    assert [v["number"] for v in versions.json()["items"]] == [2, 1]
