"""The collector and its CLI: blobs without rows, rows without blobs."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI

from cowrite.config import Settings
from cowrite.files.maintenance import collect_garbage
from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.files import (
    BlobSpace,
    Team,
    file_rows,
    make_document,
    purge_document,
    stored_blobs,
    upload,
)
from tests.support.server import run_cli


async def test_collector_finds_both_kinds_of_orphan(
    app: FastAPI, client: httpx.AsyncClient, team: Team, blobs: BlobSpace
) -> None:
    state = app.state.cowrite
    document_id = await make_document(client, team.owner, team.workspace_id)
    kept = (await upload(client, team.editor, team.workspace_id, b"kept")).json()
    await upload(client, team.editor, team.workspace_id, b"attached", document_id=document_id)
    lost = (await upload(client, team.editor, team.workspace_id, b"lost")).json()
    await purge_document(client, team.owner, document_id)  # its row goes; its blob stays behind
    lost_blobs = [path for path in stored_blobs(blobs) if path.read_bytes() == b"lost"]
    lost_blobs[0].unlink()  # a row whose blob vanished

    young = await collect_garbage(state.session_factory, state.storage, dry_run=True)
    assert young.orphan_blobs == []  # still inside the grace period: maybe an upload in flight
    report = await collect_garbage(
        state.session_factory, state.storage, grace=timedelta(0), dry_run=True
    )
    assert len(report.orphan_blobs) == 1
    assert [str(file_id) for file_id in report.rows_without_blob] == [lost["id"]]
    assert len(stored_blobs(blobs)) == 2  # a dry run changes nothing

    await collect_garbage(state.session_factory, state.storage, grace=timedelta(0))
    assert [path.read_bytes() for path in stored_blobs(blobs)] == [b"kept"]
    assert await file_rows(app) == 2  # the row without blob is only reported

    await collect_garbage(state.session_factory, state.storage, grace=timedelta(0), prune_rows=True)
    assert await file_rows(app) == 1
    response = await client.get(f"/api/v1/files/{kept['id']}/content", headers=team.editor.headers)
    assert response.content == b"kept"


async def test_files_gc_command(
    app: FastAPI,
    client: httpx.AsyncClient,
    team: Team,
    db: TestDatabase,
    settings: Settings,
    blobs: BlobSpace,
    tmp_path: Path,
) -> None:
    document_id = await make_document(client, team.owner, team.workspace_id)
    await upload(client, team.editor, team.workspace_id, b"orphan", document_id=document_id)
    await purge_document(client, team.owner, document_id)
    env = {**os.environ, **server_env(db, settings.data_dir)}
    if settings.storage_url:
        env["COWRITE_STORAGE_URL"] = settings.storage_url
    command = ["files-gc", "--grace-seconds", "0"]
    dry = await asyncio.to_thread(run_cli, [*command, "--dry-run"], cwd=tmp_path, env=env)
    assert dry.returncode == 0, dry.stderr
    assert "found 1 blobs without a row" in dry.stdout
    assert len(stored_blobs(blobs)) == 1
    run = await asyncio.to_thread(run_cli, command, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert "removed 1 blobs without a row" in run.stdout
    assert stored_blobs(blobs) == []
