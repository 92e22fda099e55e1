"""Uploading: sizes at the edges, limits enforced while streaming, document links, roles."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from tests.files.conftest import MAX_UPLOAD, QUOTA
from tests.support.files import (
    MULTIPART,
    BlobSpace,
    Team,
    closing,
    file_rows,
    make_document,
    multipart_body,
    part,
    stored_blobs,
    trash_document,
    upload,
    upload_raw,
)
from tests.support.workspaces import add_member


async def test_upload_records_metadata_and_keeps_the_bytes(
    client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    data = b"quarterly numbers\n" * 100
    response = await upload(
        client, team.editor, team.workspace_id, data, filename="report.csv", content_type="text/csv"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["workspace_id"] == str(team.workspace_id)
    assert body["document_id"] is None
    assert body["filename"] == "report.csv"
    assert body["content_type"] == "text/csv"
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["uploaded_by"] == str(team.editor.id)
    blobs = stored_blobs(blobs)
    assert [blob.read_bytes() for blob in blobs] == [data]
    assert "report" not in str(blobs[0])  # the user's name never becomes a path

    content = await client.get(f"/api/v1/files/{body['id']}/content", headers=team.viewer.headers)
    assert content.status_code == 200
    assert content.content == data


async def test_empty_and_one_byte_files(client: httpx.AsyncClient, team: Team) -> None:
    for data in (b"", b"x"):
        response = await upload(client, team.editor, team.workspace_id, data)
        assert response.status_code == 201, response.text
        assert response.json()["size"] == len(data)
        assert response.json()["sha256"] == hashlib.sha256(data).hexdigest()
        content = await client.get(
            f"/api/v1/files/{response.json()['id']}/content", headers=team.editor.headers
        )
        assert content.status_code == 200
        assert content.content == data


async def test_exactly_the_limit_is_accepted(client: httpx.AsyncClient, team: Team) -> None:
    response = await upload(client, team.editor, team.workspace_id, b"a" * MAX_UPLOAD)
    assert response.status_code == 201, response.text
    assert response.json()["size"] == MAX_UPLOAD


async def test_one_byte_over_the_limit_is_413_and_leaves_nothing(
    app: FastAPI, client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    response = await upload(client, team.editor, team.workspace_id, b"a" * (MAX_UPLOAD + 1))
    assert response.status_code == 413
    assert response.json()["code"] == "file_too_large"
    assert stored_blobs(blobs) == []
    assert await file_rows(app) == 0


async def test_limit_stops_a_stream_before_it_ends(
    app: FastAPI, client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        head = part("file", b"", filename="big.bin", content_type="application/octet-stream")
        yield head[: -len(b"\r\n")]
        for _ in range(10_000):
            sent += 64 * 1024
            yield b"z" * (64 * 1024)

    response = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/files",
        content=endless(),
        headers={**team.editor.headers, "Content-Type": MULTIPART},
    )
    assert response.status_code == 413
    assert sent < 10_000 * 64 * 1024  # the server stopped reading long before the end
    assert stored_blobs(blobs) == []
    assert await file_rows(app) == 0


async def test_workspace_quota_is_a_clear_413(
    client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    for _ in range(QUOTA // MAX_UPLOAD):
        response = await upload(client, team.editor, team.workspace_id, b"q" * MAX_UPLOAD)
        assert response.status_code == 201, response.text
    response = await upload(client, team.editor, team.workspace_id, b"!")
    assert response.status_code == 413
    assert response.json()["code"] == "workspace_quota_exceeded"
    assert len(stored_blobs(blobs)) == QUOTA // MAX_UPLOAD
    # Another workspace has its own quota.
    elsewhere = await upload(client, team.outsider, team.other_workspace_id, b"fine")
    assert elsewhere.status_code == 201


async def test_concurrent_uploads_cannot_overrun_the_quota(
    client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    for _ in range(QUOTA // MAX_UPLOAD - 1):
        assert (await upload(client, team.editor, team.workspace_id, b"q" * MAX_UPLOAD)).is_success
    # Each fits in the room left on its own; both together do not.
    size = MAX_UPLOAD * 3 // 4
    responses = await asyncio.gather(
        upload(client, team.editor, team.workspace_id, b"a" * size),
        upload(client, team.admin, team.workspace_id, b"b" * size),
    )
    assert sorted(response.status_code for response in responses) == [201, 413]
    refused = next(response for response in responses if response.status_code == 413)
    assert refused.json()["code"] == "workspace_quota_exceeded"
    assert len(stored_blobs(blobs)) == QUOTA // MAX_UPLOAD


async def test_partial_quota_stops_the_stream_with_the_quota_code(
    client: httpx.AsyncClient, team: Team
) -> None:
    for _ in range(QUOTA // MAX_UPLOAD - 1):
        assert (await upload(client, team.editor, team.workspace_id, b"q" * MAX_UPLOAD)).is_success
    nearly = await upload(client, team.editor, team.workspace_id, b"q" * (MAX_UPLOAD - 10))
    assert nearly.status_code == 201
    response = await upload(client, team.editor, team.workspace_id, b"w" * 11)
    assert response.status_code == 413
    assert response.json()["code"] == "workspace_quota_exceeded"
    assert (await upload(client, team.editor, team.workspace_id, b"w" * 10)).status_code == 201


async def test_attach_to_a_document_of_the_workspace(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await make_document(client, team.owner, team.workspace_id)
    for document_first in (True, False):
        response = await upload(
            client,
            team.editor,
            team.workspace_id,
            b"figure",
            document_id=document_id,
            document_first=document_first,
        )
        assert response.status_code == 201, response.text
        assert response.json()["document_id"] == str(document_id)


async def test_document_of_another_workspace_is_not_found(
    app: FastAPI, client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    foreign = await make_document(client, team.outsider, team.other_workspace_id)
    for document_id in (foreign, uuid.uuid4()):
        for document_first in (True, False):
            response = await upload(
                client,
                team.editor,
                team.workspace_id,
                b"secret",
                document_id=document_id,
                document_first=document_first,
            )
            assert response.status_code == 404, response.text
            assert response.json()["code"] == "not_found"
    assert stored_blobs(blobs) == []
    assert await file_rows(app) == 0


async def test_owner_of_both_workspaces_cannot_mix_their_ids(
    app: FastAPI, client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    """Seeing both the workspace and the document is not enough: they must belong together."""
    await add_member(client, team.other_workspace_id, team.outsider, team.owner, "owner")
    document_of_b = await make_document(client, team.outsider, team.other_workspace_id)
    response = await upload(client, team.owner, team.workspace_id, document_id=document_of_b)
    assert response.status_code == 404
    listing = await client.get(
        f"/api/v1/workspaces/{team.workspace_id}/files",
        params={"document_id": str(document_of_b)},
        headers=team.owner.headers,
    )
    assert listing.status_code == 404
    assert stored_blobs(blobs) == []


async def test_trashed_document_takes_no_attachments(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await make_document(client, team.owner, team.workspace_id)
    await trash_document(client, team.owner, document_id)
    response = await upload(client, team.editor, team.workspace_id, document_id=document_id)
    assert response.status_code == 404


async def test_malformed_document_id_is_422(
    app: FastAPI, client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    response = await upload(client, team.editor, team.workspace_id, document_id="../etc")
    assert response.status_code == 422
    assert stored_blobs(blobs) == []


async def test_roles(client: httpx.AsyncClient, team: Team, blobs: BlobSpace) -> None:
    assert (await upload(client, team.viewer, team.workspace_id)).status_code == 403
    assert (await upload(client, team.outsider, team.workspace_id)).status_code == 404
    anonymous = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/files",
        content=multipart_body(b"x"),
        headers={"Content-Type": MULTIPART},
    )
    assert anonymous.status_code == 401
    assert stored_blobs(blobs) == []
    for member in (team.editor, team.admin, team.owner):
        assert (await upload(client, member, team.workspace_id)).status_code == 201


async def test_form_without_file_part_is_422(client: httpx.AsyncClient, team: Team) -> None:
    body = part("note", b"just text") + closing()
    response = await upload_raw(client, team.editor, team.workspace_id, body)
    assert response.status_code == 422
    assert response.json()["code"] == "file_missing"


async def test_two_file_parts_are_refused(
    app: FastAPI, client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    body = part("file", b"one", filename="a.txt") + part("file", b"two", filename="b.txt")
    response = await upload_raw(client, team.editor, team.workspace_id, body + closing())
    assert response.status_code == 400
    assert stored_blobs(blobs) == []
    assert await file_rows(app) == 0


async def test_unknown_fields_are_ignored(client: httpx.AsyncClient, team: Team) -> None:
    body = part("comment", b"hi") + part("file", b"data", filename="d.bin") + closing()
    response = await upload_raw(client, team.editor, team.workspace_id, body)
    assert response.status_code == 201
    assert response.json()["size"] == 4
