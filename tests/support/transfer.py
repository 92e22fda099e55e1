"""Helpers for export and import tests: start jobs through the API, wait for their outcome,
and build zip archives (honest and hostile) in memory."""

from __future__ import annotations

import asyncio
import io
import time
import uuid
import zipfile
from typing import Any

import httpx

from tests.support.factories import UserCtx

JOB_TIMEOUT = 60.0


async def wait_for_job(client: httpx.AsyncClient, user: UserCtx, job_id: str) -> dict[str, Any]:
    """Poll the job as its owner would until it is done or failed."""
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        response = await client.get(f"/api/v1/jobs/{job_id}", headers=user.headers)
        assert response.status_code == 200, response.text
        job: dict[str, Any] = response.json()
        if job["status"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, f"job still {job['status']} after {JOB_TIMEOUT}s"
        await asyncio.sleep(0.05)


async def start_import(
    client: httpx.AsyncClient,
    user: UserCtx,
    workspace_id: uuid.UUID | str,
    filename: str,
    data: bytes,
) -> str:
    response = await client.post(
        f"/api/v1/workspaces/{workspace_id}/imports",
        files={"file": (filename, data, "application/octet-stream")},
        headers=user.headers,
    )
    assert response.status_code == 202, response.text
    job_id: str = response.json()["job_id"]
    return job_id


async def import_file(
    client: httpx.AsyncClient,
    user: UserCtx,
    workspace_id: uuid.UUID | str,
    filename: str,
    data: bytes,
) -> dict[str, Any]:
    return await wait_for_job(
        client, user, await start_import(client, user, workspace_id, filename, data)
    )


async def export_workspace(
    client: httpx.AsyncClient, user: UserCtx, workspace_id: uuid.UUID | str
) -> bytes:
    response = await client.post(f"/api/v1/workspaces/{workspace_id}/exports", headers=user.headers)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    job = await wait_for_job(client, user, job_id)
    assert job["status"] == "done", job
    result = await client.get(f"/api/v1/jobs/{job_id}/result", headers=user.headers)
    assert result.status_code == 200, result.text
    assert result.headers["content-type"] == "application/zip"
    return result.content


def make_zip(entries: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def zip_with_symlink(link: str, points_to: str, other: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo(link)
        info.external_attr = 0o120777 << 16
        info.create_system = 3
        archive.writestr(info, points_to)
        for name, data in other.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def claim_size(archive: bytes, name: str, size: int) -> bytes:
    """The archive with `name`'s uncompressed size rewritten in its central directory entry, as
    a hostile archive would claim it."""
    data = bytearray(archive)
    encoded = name.encode()
    position = 0
    while True:
        position = data.index(b"PK\x01\x02", position)
        name_length = int.from_bytes(data[position + 28 : position + 30], "little")
        if bytes(data[position + 46 : position + 46 + name_length]) == encoded:
            data[position + 24 : position + 28] = size.to_bytes(4, "little")
            return bytes(data)
        position += 4
