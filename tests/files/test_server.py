"""Against a real `cowrite serve`: streamed uploads, early 413, and a client that hangs up."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx, make_user
from tests.support.files import (
    MULTIPART,
    BlobSpace,
    closing,
    database_sessions,
    file_rows,
    part,
    stored_blobs,
)
from tests.support.server import ServerProcess
from tests.support.workspaces import make_workspace

LIMIT = 1024 * 1024


@pytest.fixture
def limited_server(
    db: TestDatabase, tmp_path: Path, storage_url: str | None
) -> Iterator[ServerProcess]:
    storage = {"COWRITE_STORAGE_URL": storage_url} if storage_url else {}
    env = server_env(db, tmp_path / "data", COWRITE_MAX_UPLOAD_BYTES=str(LIMIT), **storage)
    process = ServerProcess(env=env, workdir=tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.stop()


async def _eventually(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def _owner_with_workspace(client: httpx.AsyncClient) -> tuple[UserCtx, str]:
    owner = await make_user(client)
    workspace = await make_workspace(client, owner)
    return owner, str(workspace["id"])


async def _streamed_file(size: int, piece: int = 256 * 1024) -> AsyncIterator[bytes]:
    head = part("file", b"", filename="big.bin", content_type="application/octet-stream")
    yield head[: -len(b"\r\n")]
    sent = 0
    while sent < size:
        chunk = bytes([sent // piece % 251]) * min(piece, size - sent)
        sent += len(chunk)
        yield chunk
    yield b"\r\n" + closing()


def _expected_sha256(size: int, piece: int = 256 * 1024) -> str:
    digest = hashlib.sha256()
    for offset in range(0, size, piece):
        digest.update(bytes([offset // piece % 251]) * min(piece, size - offset))
    return digest.hexdigest()


async def test_streamed_upload_at_the_limit_over_a_real_server(
    limited_server: ServerProcess, db: TestDatabase, blobs: BlobSpace
) -> None:
    async with httpx.AsyncClient(base_url=limited_server.base_url, timeout=30) as client:
        owner, workspace_id = await _owner_with_workspace(client)
        response = await client.post(
            f"/api/v1/workspaces/{workspace_id}/files",
            content=_streamed_file(LIMIT),
            headers={**owner.headers, "Content-Type": MULTIPART},
        )
        assert response.status_code == 201, response.text
        assert response.json()["size"] == LIMIT
        assert response.json()["sha256"] == _expected_sha256(LIMIT)
        download = await client.get(
            f"/api/v1/files/{response.json()['id']}/content",
            headers={**owner.headers, "Range": f"bytes={LIMIT - 5}-"},
        )
        assert download.status_code == 206
        assert len(download.content) == 5


async def test_over_the_limit_is_refused_while_streaming(
    limited_server: ServerProcess, db: TestDatabase, blobs: BlobSpace
) -> None:
    async with httpx.AsyncClient(base_url=limited_server.base_url, timeout=30) as client:
        owner, workspace_id = await _owner_with_workspace(client)
        try:
            response = await client.post(
                f"/api/v1/workspaces/{workspace_id}/files",
                content=_streamed_file(64 * LIMIT),
                headers={**owner.headers, "Content-Type": MULTIPART},
            )
        except httpx.TransportError:
            # The server answered 413 and closed while the client was still sending.
            response = None
        if response is not None:
            assert response.status_code == 413
            assert response.json()["code"] == "file_too_large"
        await _eventually(lambda: stored_blobs(blobs) == [])
        assert (await client.get("/health")).status_code == 200
    async with database_sessions(db.url) as sessions:
        assert await file_rows(sessions) == 0


async def test_a_declared_oversize_body_is_refused_before_it_is_sent(
    limited_server: ServerProcess, db: TestDatabase, blobs: BlobSpace
) -> None:
    async with httpx.AsyncClient(base_url=limited_server.base_url, timeout=30) as client:
        owner, workspace_id = await _owner_with_workspace(client)
    head = (
        f"POST /api/v1/workspaces/{workspace_id}/files HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {owner.access_token}\r\n"
        f"Content-Type: {MULTIPART}\r\nContent-Length: {50 * LIMIT}\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", limited_server.port)
    try:
        writer.write(head)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 10)
        assert status_line.startswith(b"HTTP/1.1 413"), status_line  # no "100 Continue" first
    finally:
        writer.close()
    assert stored_blobs(blobs) == []


async def test_an_upload_cut_off_mid_stream_leaves_nothing(
    server: ServerProcess, db: TestDatabase, blobs: BlobSpace
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        owner, workspace_id = await _owner_with_workspace(client)
    # Large enough that more than one multipart part is on its way when the client goes.
    body = part("file", b"x" * (16 * 1024 * 1024), filename="cut.bin") + closing()
    head = (
        f"POST /api/v1/workspaces/{workspace_id}/files HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nAuthorization: Bearer {owner.access_token}\r\n"
        f"Content-Type: {MULTIPART}\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    _reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(head + body[: len(body) * 3 // 4])
    await writer.drain()
    # The upload has begun streaming into a temp file (an unfinished multipart upload) ...
    await _eventually(lambda: stored_blobs(blobs) != [])
    writer.close()
    await writer.wait_closed()
    # ... and when the client hangs up, it goes (aborted) and no row is written.
    await _eventually(lambda: stored_blobs(blobs) == [])
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        assert (await client.get("/health")).status_code == 200
        after = await client.post(
            f"/api/v1/workspaces/{workspace_id}/files",
            content=part("file", b"fine", filename="ok.txt") + closing(),
            headers={**owner.headers, "Content-Type": MULTIPART},
        )
        assert after.status_code == 201
    async with database_sessions(db.url) as sessions:
        assert await file_rows(sessions) == 1
    assert "Traceback" not in server.logs()
