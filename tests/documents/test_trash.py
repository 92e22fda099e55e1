"""The trash: move in, restore (editors their own, admins any), delete for good, purge by age."""

from __future__ import annotations

import asyncio
import os
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.app import create_app
from cowrite.config import Settings
from cowrite.db import unit_of_work
from cowrite.documents.service import purge_trash
from cowrite.kit.clock import utcnow
from cowrite.kit.events import DocumentTrashed
from cowrite.models import Document, DocumentTag, DocumentVersion
from tests.conftest import make_settings, server_env
from tests.support.databases import TestDatabase
from tests.support.documents import create_document
from tests.support.server import run_cli
from tests.support.workspaces import Team


def doc_url(document_id: str) -> str:
    return f"/api/v1/documents/{document_id}"


async def trash(client: httpx.AsyncClient, team: Team, role: str, document_id: str) -> int:
    response = await client.delete(doc_url(document_id), headers=team.member(role).headers)
    return response.status_code


async def test_trashed_documents_leave_lists_and_search_but_come_back(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(
        client, team.editor, team.workspace_id, "Quarterly zebra report", "zebra numbers"
    )
    trashed_events: list[DocumentTrashed] = []
    app.state.cowrite.events.subscribe(DocumentTrashed, trashed_events.append)

    assert await trash(client, team, "editor", document["id"]) == 204
    assert trashed_events == [
        DocumentTrashed(
            document_id=uuid.UUID(document["id"]), workspace_id=uuid.UUID(team.workspace_id)
        )
    ]
    assert (
        await client.get(doc_url(document["id"]), headers=team.editor.headers)
    ).status_code == 404
    url = f"/api/v1/workspaces/{team.workspace_id}/documents"
    live = await client.get(url, headers=team.editor.headers)
    assert live.json()["items"] == []
    binned = await client.get(url, params={"trashed": "true"}, headers=team.viewer.headers)
    assert [item["id"] for item in binned.json()["items"]] == [document["id"]]
    assert binned.json()["items"][0]["deleted_at"] is not None
    found = await client.get("/api/v1/search", params={"q": "zebra"}, headers=team.editor.headers)
    assert found.json()["items"] == []
    # Trashing twice: the document is no longer there to trash.
    assert await trash(client, team, "editor", document["id"]) == 404

    restored = await client.post(doc_url(document["id"]) + "/restore", headers=team.editor.headers)
    assert restored.status_code == 200
    assert restored.json()["deleted_at"] is None
    assert restored.json()["content"] == "zebra numbers"
    found = await client.get("/api/v1/search", params={"q": "zebra"}, headers=team.editor.headers)
    assert [item["document_id"] for item in found.json()["items"]] == [document["id"]]


async def test_restore_is_for_the_one_who_trashed_or_an_admin(
    client: httpx.AsyncClient, team: Team, app: FastAPI
) -> None:
    document = await create_document(client, team.editor, team.workspace_id)
    assert await trash(client, team, "owner", document["id"]) == 204
    restore = doc_url(document["id"]) + "/restore"
    assert (await client.post(restore, headers=team.viewer.headers)).status_code == 403
    assert (await client.post(restore, headers=team.editor.headers)).status_code == 403
    assert (await client.post(restore, headers=team.outsider.headers)).status_code == 404
    assert (await client.post(restore, headers=team.admin.headers)).status_code == 200
    # Restoring a live document is a conflict, not a silent success.
    again = await client.post(restore, headers=team.admin.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "not_in_trash"

    assert await trash(client, team, "editor", document["id"]) == 204
    assert (await client.post(restore, headers=team.editor.headers)).status_code == 200
    assert await trash(client, team, "viewer", document["id"]) == 403


async def test_permanent_delete_needs_an_admin_and_the_trash(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(
        client, team.editor, team.workspace_id, "Gone", "quokka", tags=["t"]
    )
    await client.patch(
        doc_url(document["id"]), json={"content": "quokka 2"}, headers=team.admin.headers
    )
    async with unit_of_work(app.state.cowrite.session_factory) as session:
        assert await indexed(session, "quokka") == 1
    forever = doc_url(document["id"]) + "?permanent=true"
    live = await client.delete(forever, headers=team.admin.headers)
    assert live.status_code == 409
    assert live.json()["code"] == "not_in_trash"
    assert await trash(client, team, "editor", document["id"]) == 204
    assert (await client.delete(forever, headers=team.editor.headers)).status_code == 403
    assert (await client.delete(forever, headers=team.outsider.headers)).status_code == 404
    assert (await client.delete(forever, headers=team.admin.headers)).status_code == 204

    assert (await client.delete(forever, headers=team.admin.headers)).status_code == 404
    restore = await client.post(doc_url(document["id"]) + "/restore", headers=team.admin.headers)
    assert restore.status_code == 404
    document_id = uuid.UUID(document["id"])
    async with unit_of_work(app.state.cowrite.session_factory) as session:
        for model in (DocumentVersion, DocumentTag):
            count = await session.scalar(
                select(func.count()).select_from(model).where(model.document_id == document_id)
            )
            assert count == 0
        assert await indexed(session, "quokka") == 0


async def indexed(session: AsyncSession, word: str) -> int:
    """Entries of the search index (whatever their document's state) that hold `word`."""
    if session.get_bind().dialect.name == "sqlite":
        sql = "SELECT count(*) FROM documents_fts WHERE documents_fts MATCH :word"
    else:
        sql = "SELECT count(*) FROM documents WHERE search_vector @@ to_tsquery('simple', :word)"
    return int(await session.scalar(text(sql), {"word": word}) or 0)


async def _age_trash(app: FastAPI, document_id: str, days: int) -> None:
    async with unit_of_work(app.state.cowrite.session_factory) as session:
        document = await session.get(Document, uuid.UUID(document_id))
        assert document is not None
        document.deleted_at = utcnow() - timedelta(days=days)


async def test_purge_removes_only_documents_trashed_long_ago(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    old = await create_document(client, team.editor, team.workspace_id, "Old")
    recent = await create_document(client, team.editor, team.workspace_id, "Recent")
    live = await create_document(client, team.editor, team.workspace_id, "Live")
    for document in (old, recent):
        assert await trash(client, team, "editor", document["id"]) == 204
    await _age_trash(app, old["id"], 31)
    await _age_trash(app, recent["id"], 29)

    factory = app.state.cowrite.session_factory
    assert await purge_trash(factory, timedelta(days=30), batch_size=1) == 1
    assert await purge_trash(factory, timedelta(days=30)) == 0
    async with unit_of_work(factory) as session:
        assert await session.get(Document, uuid.UUID(old["id"])) is None
        assert await session.get(Document, uuid.UUID(recent["id"])) is not None
        assert await session.get(Document, uuid.UUID(live["id"])) is not None


async def test_the_background_job_purges_at_start_up(
    app: FastAPI, client: httpx.AsyncClient, team: Team, settings: Settings, tmp_path: Path
) -> None:
    old = await create_document(client, team.editor, team.workspace_id, "Old")
    assert await trash(client, team, "editor", old["id"]) == 204
    await _age_trash(app, old["id"], 3)

    second = create_app(
        make_settings(settings.resolved_database_url, tmp_path / "second", trash_retention_days=2)
    )
    async with second.router.lifespan_context(second):
        for _ in range(200):
            async with unit_of_work(second.state.cowrite.session_factory) as session:
                if await session.get(Document, uuid.UUID(old["id"])) is None:
                    break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the background purge did not remove the old document")


async def test_purge_trash_command(
    app: FastAPI, client: httpx.AsyncClient, team: Team, db: TestDatabase, tmp_path: Path
) -> None:
    old = await create_document(client, team.editor, team.workspace_id, "Old")
    assert await trash(client, team, "editor", old["id"]) == 204
    await _age_trash(app, old["id"], 10)
    env = {**os.environ, **server_env(db, tmp_path / "data")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_cli(["purge-trash", *args], cwd=tmp_path, env=env, timeout=60)

    kept = await asyncio.to_thread(run)  # default retention: 30 days
    assert kept.returncode == 0, kept.stderr
    assert "purged 0 documents" in kept.stdout
    purged = await asyncio.to_thread(run, "--older-than-days", "7")
    assert purged.returncode == 0, purged.stderr
    assert "purged 1 documents" in purged.stdout
    async with unit_of_work(app.state.cowrite.session_factory) as session:
        assert await session.get(Document, uuid.UUID(old["id"])) is None
