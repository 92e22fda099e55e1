"""Metadata, lists and deletion: who sees what, and files that go away with their document."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.support.files import (
    BlobSpace,
    Team,
    file_rows,
    make_document,
    purge_document,
    stored_blobs,
    trash_document,
    upload,
)
from tests.support.workspaces import set_role


async def _upload(client: httpx.AsyncClient, team: Team, **options: Any) -> dict[str, Any]:
    uploader = options.pop("uploader", team.editor)
    response = await upload(client, uploader, team.workspace_id, b"content", **options)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_get_metadata(client: httpx.AsyncClient, team: Team) -> None:
    stored = await _upload(client, team, filename="plan.md", content_type="text/markdown")
    response = await client.get(f"/api/v1/files/{stored['id']}", headers=team.viewer.headers)
    assert response.status_code == 200
    assert response.json() == stored
    outsider = await client.get(f"/api/v1/files/{stored['id']}", headers=team.outsider.headers)
    assert outsider.status_code == 404
    content = await client.get(
        f"/api/v1/files/{stored['id']}/content", headers=team.outsider.headers
    )
    assert content.status_code == 404
    assert (await client.get(f"/api/v1/files/{stored['id']}")).status_code == 401


async def test_list_by_workspace_and_by_document(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await make_document(client, team.owner, team.workspace_id)
    loose = await _upload(client, team, filename="loose.txt")
    attached = await _upload(client, team, filename="attached.txt", document_id=document_id)
    url = f"/api/v1/workspaces/{team.workspace_id}/files"

    everything = await client.get(url, headers=team.viewer.headers)
    assert everything.status_code == 200
    assert [item["id"] for item in everything.json()["items"]] == [attached["id"], loose["id"]]
    assert everything.json()["next_cursor"] is None

    by_document = await client.get(
        url, params={"document_id": str(document_id)}, headers=team.viewer.headers
    )
    assert [item["id"] for item in by_document.json()["items"]] == [attached["id"]]

    assert (await client.get(url, headers=team.outsider.headers)).status_code == 404


async def test_list_refuses_foreign_or_unknown_documents(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    foreign = await make_document(client, team.outsider, team.other_workspace_id)
    url = f"/api/v1/workspaces/{team.workspace_id}/files"
    for document_id in (foreign, uuid.uuid4()):
        response = await client.get(
            url, params={"document_id": str(document_id)}, headers=team.viewer.headers
        )
        assert response.status_code == 404


async def test_list_pages_with_a_cursor(client: httpx.AsyncClient, team: Team) -> None:
    ids = [(await _upload(client, team))["id"] for _ in range(5)]
    url = f"/api/v1/workspaces/{team.workspace_id}/files"
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(url, params=params, headers=team.viewer.headers)).json()
        assert len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    bad = await client.get(url, params={"cursor": "garbage"}, headers=team.viewer.headers)
    assert bad.status_code == 400
    too_many = await client.get(url, params={"limit": 201}, headers=team.viewer.headers)
    assert too_many.status_code == 422


async def test_files_of_a_trashed_document_are_hidden(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await make_document(client, team.owner, team.workspace_id)
    attached = await _upload(client, team, document_id=document_id)
    loose = await _upload(client, team)
    await trash_document(client, team.owner, document_id)
    for path in ("", "/content"):
        response = await client.get(
            f"/api/v1/files/{attached['id']}{path}", headers=team.owner.headers
        )
        assert response.status_code == 404
    deleted = await client.delete(f"/api/v1/files/{attached['id']}", headers=team.owner.headers)
    assert deleted.status_code == 404
    listing = await client.get(
        f"/api/v1/workspaces/{team.workspace_id}/files", headers=team.owner.headers
    )
    assert [item["id"] for item in listing.json()["items"]] == [loose["id"]]


async def test_files_of_a_deleted_workspace_are_hidden(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    stored = await _upload(client, team)
    deleted = await client.delete(
        f"/api/v1/workspaces/{team.workspace_id}", headers=team.owner.headers
    )
    assert deleted.status_code == 204
    for path in ("", "/content"):
        response = await client.get(
            f"/api/v1/files/{stored['id']}{path}", headers=team.owner.headers
        )
        assert response.status_code == 404
    listing = await client.get(
        f"/api/v1/workspaces/{team.workspace_id}/files", headers=team.owner.headers
    )
    assert listing.status_code == 404
    assert (await upload(client, team.owner, team.workspace_id)).status_code == 404


async def test_purging_a_document_removes_its_file_rows(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await make_document(client, team.owner, team.workspace_id)
    attached = await _upload(client, team, document_id=document_id)
    await _upload(client, team)
    await purge_document(client, team.owner, document_id)
    assert await file_rows(app) == 1
    response = await client.get(f"/api/v1/files/{attached['id']}", headers=team.owner.headers)
    assert response.status_code == 404


async def test_uploader_deletes_their_own_file(
    client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    stored = await _upload(client, team)
    response = await client.delete(f"/api/v1/files/{stored['id']}", headers=team.editor.headers)
    assert response.status_code == 204
    assert stored_blobs(blobs) == []
    gone = await client.get(f"/api/v1/files/{stored['id']}", headers=team.editor.headers)
    assert gone.status_code == 404


async def test_who_may_delete(client: httpx.AsyncClient, team: Team, blobs: BlobSpace) -> None:
    by_owner = await _upload(client, team, uploader=team.owner)
    url = f"/api/v1/files/{by_owner['id']}"
    assert (await client.delete(url, headers=team.viewer.headers)).status_code == 403
    assert (await client.delete(url, headers=team.editor.headers)).status_code == 403
    assert (await client.delete(url, headers=team.outsider.headers)).status_code == 404
    assert (await client.delete(url)).status_code == 401
    assert len(stored_blobs(blobs)) == 1
    assert (await client.delete(url, headers=team.admin.headers)).status_code == 204
    assert (await client.delete(url, headers=team.admin.headers)).status_code == 404
    assert stored_blobs(blobs) == []


async def test_an_uploader_demoted_to_viewer_can_no_longer_delete(
    client: httpx.AsyncClient, team: Team
) -> None:
    stored = await _upload(client, team)
    await set_role(client, team.workspace_id, team.owner, team.editor, "viewer")
    url = f"/api/v1/files/{stored['id']}"
    assert (await client.delete(url, headers=team.editor.headers)).status_code == 403
    assert (await client.get(url, headers=team.editor.headers)).status_code == 200
