"""What only the S3 backend has to prove: a failed stream aborts its multipart upload, ranges
are ranged gets, and a bucket that does not answer is a 503 with no row left pointing at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from cowrite.storage.s3 import PART_BYTES, S3BlobStore
from tests.support.files import BlobSpace, Team, file_rows, stored_blobs, upload
from tests.support.s3 import S3Server, bucket_blobs
from tests.support.server import free_port

pytestmark = pytest.mark.parametrize("storage_backend", ["s3"])


async def _failing_stream() -> AsyncIterator[bytes]:
    for _ in range(3):
        yield b"x" * PART_BYTES  # whole parts: the upload is multipart by now
    raise ConnectionResetError("the client went away")


async def test_a_failed_stream_aborts_its_multipart_upload(
    s3_server: S3Server, storage_url: str
) -> None:
    store = S3BlobStore.from_url(storage_url)
    with pytest.raises(ConnectionResetError):
        await store.put(_failing_stream())
    assert bucket_blobs(s3_server, storage_url) == []


async def test_ranged_reads(storage_url: str) -> None:
    store = S3BlobStore.from_url(storage_url)

    async def data() -> AsyncIterator[bytes]:
        yield bytes(range(256)) * 4

    blob = await store.put(data())
    reader = await store.open(blob.key)
    assert reader.size == 1024
    assert b"".join([piece async for piece in reader.chunks(250, 10)]) == bytes(
        range(250, 256)
    ) + bytes(range(4))
    assert [key async for key in store.list_keys()] == [blob.key]
    assert await store.delete(blob.key)
    assert await store.stat(blob.key) is None


async def test_unreachable_storage_is_503_and_leaves_no_row(
    app: FastAPI, client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    state = app.state.cowrite
    kept = await upload(client, team.editor, team.workspace_id, b"stored while it answered")
    assert kept.status_code == 201
    dead = f"s3://cowrite-test/gone?endpoint_url=http://127.0.0.1:{free_port()}&region=us-east-1"
    working, state.storage = state.storage, S3BlobStore.from_url(dead)
    try:
        refused = await upload(client, team.editor, team.workspace_id, b"never written")
        assert refused.status_code == 503
        assert refused.json()["code"] == "storage_unavailable"
        download = await client.get(
            f"/api/v1/files/{kept.json()['id']}/content", headers=team.viewer.headers
        )
        assert download.status_code == 503
    finally:
        state.storage = working
    assert await file_rows(app) == 1
    assert [blob.read_bytes() for blob in stored_blobs(blobs)] == [b"stored while it answered"]
