"""Test helpers for files: documents through the public API, a count of file rows straight from
the database, and raw multipart bodies (so tests can send what no well-behaved client library
would)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from cowrite.db import create_engine, create_session_factory, unit_of_work
from cowrite.models import StoredFile
from tests.support.documents import create_document
from tests.support.factories import UserCtx
from tests.support.s3 import S3Server, StoredBlob, bucket_blobs, disk_blobs

BOUNDARY = "cowrite-test-boundary-7MA4YWxkTrZu0gW"


Target = FastAPI | async_sessionmaker[AsyncSession]


def _factory(target: Target) -> async_sessionmaker[AsyncSession]:
    """The app's session factory, or a factory of its own (for tests against a real server)."""
    if isinstance(target, FastAPI):
        factory: async_sessionmaker[AsyncSession] = target.state.cowrite.session_factory
        return factory
    return target


@asynccontextmanager
async def database_sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(url)
    try:
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def make_document(
    client: httpx.AsyncClient, user: UserCtx, workspace_id: uuid.UUID, title: str = "Notes"
) -> uuid.UUID:
    return uuid.UUID((await create_document(client, user, workspace_id, title))["id"])


async def trash_document(client: httpx.AsyncClient, user: UserCtx, document_id: uuid.UUID) -> None:
    response = await client.delete(f"/api/v1/documents/{document_id}", headers=user.headers)
    assert response.status_code == 204, response.text


async def purge_document(client: httpx.AsyncClient, admin: UserCtx, document_id: uuid.UUID) -> None:
    """Trash the document, then delete it for good (its rows go, by the database's cascade)."""
    await trash_document(client, admin, document_id)
    response = await client.delete(
        f"/api/v1/documents/{document_id}", params={"permanent": "true"}, headers=admin.headers
    )
    assert response.status_code == 204, response.text


async def file_rows(app: Target) -> int:
    async with unit_of_work(_factory(app)) as session:
        return int(
            (await session.execute(select(func.count()).select_from(StoredFile))).scalar_one()
        )


@dataclass
class BlobSpace:
    """A test's blob store seen from outside: the data dir's files, or the bucket's prefix."""

    data_dir: Path
    s3: S3Server | None = None
    storage_url: str | None = None

    def list(self) -> list[StoredBlob]:
        if self.s3 is None or self.storage_url is None:
            return disk_blobs(self.data_dir)
        return bucket_blobs(self.s3, self.storage_url)

    def remove_all(self) -> None:
        """Lose every blob behind the server's back (a disk wiped, a bucket emptied)."""
        for blob in self.list():
            blob.unlink()


def stored_blobs(where: Path | BlobSpace) -> list[Any]:
    """Every blob in the store, finished or still being written (a data dir means local)."""
    return disk_blobs(where) if isinstance(where, Path) else where.list()


def part(
    name: str,
    data: bytes,
    *,
    filename: bytes | str | None = None,
    content_type: bytes | str | None = None,
    extra_headers: bytes = b"",
) -> bytes:
    """One raw multipart part; the filename goes on the wire byte for byte."""
    disposition = b'Content-Disposition: form-data; name="' + name.encode() + b'"'
    if filename is not None:
        raw = filename.encode() if isinstance(filename, str) else filename
        disposition += b'; filename="' + raw + b'"'
    headers = disposition + b"\r\n"
    if content_type is not None:
        raw_type = content_type.encode() if isinstance(content_type, str) else content_type
        headers += b"Content-Type: " + raw_type + b"\r\n"
    headers += extra_headers
    return b"--" + BOUNDARY.encode() + b"\r\n" + headers + b"\r\n" + data + b"\r\n"


def closing() -> bytes:
    return b"--" + BOUNDARY.encode() + b"--\r\n"


def multipart_body(
    data: bytes,
    *,
    filename: bytes | str = "notes.txt",
    content_type: bytes | str | None = "text/plain",
    document_id: uuid.UUID | str | None = None,
    document_first: bool = True,
) -> bytes:
    file_part = part("file", data, filename=filename, content_type=content_type)
    if document_id is None:
        return file_part + closing()
    document_part = part("document_id", str(document_id).encode())
    parts = [document_part, file_part] if document_first else [file_part, document_part]
    return b"".join(parts) + closing()


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@dataclass
class Team:
    """A workspace with one member of each role, and an outsider with a workspace of their own."""

    workspace_id: uuid.UUID
    owner: UserCtx
    admin: UserCtx
    editor: UserCtx
    viewer: UserCtx
    outsider: UserCtx
    other_workspace_id: uuid.UUID


async def upload(
    client: httpx.AsyncClient,
    user: UserCtx,
    workspace_id: uuid.UUID,
    data: bytes = b"hello",
    **options: object,
) -> httpx.Response:
    body = multipart_body(data, **options)  # type: ignore[arg-type]
    return await client.post(
        f"/api/v1/workspaces/{workspace_id}/files",
        content=body,
        headers={**user.headers, "Content-Type": MULTIPART},
    )


async def upload_raw(
    client: httpx.AsyncClient,
    user: UserCtx,
    workspace_id: uuid.UUID,
    body: bytes,
    content_type: str = MULTIPART,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/workspaces/{workspace_id}/files",
        content=body,
        headers={**user.headers, "Content-Type": content_type},
    )
