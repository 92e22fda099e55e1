"""The command line: export and import against a running server's data, and a backup taken
while someone types, restored into a fresh data dir and database, losing nothing committed."""

from __future__ import annotations

import asyncio
import contextlib
import io
import secrets
import subprocess
import sys
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from cowrite.config import Settings
from tests.conftest import server_env
from tests.scaleout.yclient import YClient
from tests.support.collab import stored_text
from tests.support.databases import (
    POSTGRES_ADMIN_DSN,
    TestDatabase,
    _dsn_with_db,
    sqlalchemy_url,
)
from tests.support.documents import create_document
from tests.support.factories import make_user
from tests.support.files import upload
from tests.support.server import ServerProcess, run_cli
from tests.support.workspaces import make_workspace


def cowrite(env: dict[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(list(args), cwd=cwd, env=env)


@pytest.fixture
async def api(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        yield client


@contextlib.asynccontextmanager
async def empty_database(db: TestDatabase, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """Settings for a fresh, empty target: a new data dir and (on PostgreSQL) a new database."""
    data_dir = tmp_path / "restored"
    if db.backend == "sqlite":
        yield {"COWRITE_DATA_DIR": str(data_dir), "COWRITE_DATABASE_URL": ""}
        return
    name = f"cowrite_restore_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {
            "COWRITE_DATA_DIR": str(data_dir),
            "COWRITE_DATABASE_URL": sqlalchemy_url(_dsn_with_db(name)),
        }
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_export_and_import_from_the_command_line(
    db: TestDatabase, client: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    """The commands work on the database and files the app (running meanwhile) uses."""
    api = client
    owner = await make_user(api)
    workspace = await make_workspace(api, owner, name="Team docs")
    await create_document(api, owner, workspace["id"], "Roadmap", "# 2027\n", ["plans"])
    env = server_env(db, settings.data_dir)
    out = tmp_path / "team.zip"
    exported = await asyncio.to_thread(
        cowrite, env, "export", "--workspace", workspace["id"], "--out", str(out), cwd=tmp_path
    )
    assert exported.returncode == 0, exported.stderr
    archive = zipfile.ZipFile(out)
    assert {"Roadmap.md", "cowrite.json"} <= set(archive.namelist())

    target = await make_workspace(api, owner, name="Copy")
    note = tmp_path / "loose note.md"
    note.write_text("just a note\n")
    imported = await asyncio.to_thread(
        cowrite, env, "import", "--workspace", target["id"], str(out), str(note), cwd=tmp_path
    )
    assert imported.returncode == 0, imported.stderr
    listed = await api.get(f"/api/v1/workspaces/{target['id']}/documents", headers=owner.headers)
    assert sorted(item["title"] for item in listed.json()["items"]) == ["Roadmap", "loose note"]


async def _type_until_stopped(client: YClient, stop: asyncio.Event) -> int:
    typed = 0
    while not stop.is_set():
        await client.type(f"<{typed}>")
        typed += 1
        await asyncio.sleep(0.01)  # a person's typing cadence, not a wait for an event
    return typed


async def test_backup_while_typing_restores_every_committed_edit(
    db: TestDatabase, server: ServerProcess, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    owner = await make_user(api)
    workspace = await make_workspace(api, owner)
    document = await create_document(api, owner, workspace["id"], "Live", "")
    attachment = await upload(
        api, owner, uuid.UUID(workspace["id"]), b"attached bytes", filename="a.txt"
    )
    assert attachment.status_code == 201
    writer = await YClient("writer").connect(server.ws_url, document["id"], owner.access_token)
    stop = asyncio.Event()
    typing = asyncio.create_task(_type_until_stopped(writer, stop))
    document_id = uuid.UUID(document["id"])
    try:
        # Wait until some of the typing is committed (the update log in the database).
        while True:
            committed = await stored_text(db.url, document_id)
            if committed.count("<") >= 20:
                break
            await asyncio.sleep(0.05)
        env = server_env(db, tmp_path / "data")
        out = tmp_path / "backup.zip"
        backup = await asyncio.to_thread(cowrite, env, "backup", "--out", str(out), cwd=tmp_path)
        assert backup.returncode == 0, backup.stderr
    finally:
        stop.set()
        typed = await typing
        await writer.close()
    assert typed > committed.count("<")

    async with empty_database(db, tmp_path) as target:
        restored_env = {**env, **target}
        restored = cowrite(restored_env, "restore", str(out), cwd=tmp_path)
        assert restored.returncode == 0, restored.stderr
        again = cowrite(restored_env, "restore", str(out), cwd=tmp_path)
        assert again.returncode == 2 and "restore needs an empty one" in again.stderr
        fresh = ServerProcess(env=restored_env, workdir=tmp_path).start()
        try:
            async with httpx.AsyncClient(base_url=fresh.base_url, timeout=30) as client:
                reader = await YClient("reader").connect(
                    fresh.ws_url, document["id"], owner.access_token
                )
                text = reader.content
                await reader.close()
                got = await client.get(
                    f"/api/v1/files/{attachment.json()['id']}/content", headers=owner.headers
                )
        finally:
            fresh.stop()
    assert text.startswith(committed)
    assert got.status_code == 200 and got.content == b"attached bytes"


def test_restore_refuses_a_damaged_backup(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("database/cowrite.db", b"not what was backed up")
        archive.writestr(
            "manifest.json",
            '{"format": "cowrite-backup", "version": 1, "database": "sqlite", "entries": '
            '[{"path": "database/cowrite.db", "size": 3, "sha256": "' + "0" * 64 + '"}]}',
        )
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(buffer.getvalue())
    env = {"COWRITE_DATA_DIR": str(tmp_path / "target"), "COWRITE_DATABASE_URL": ""}
    result = cowrite(env, "restore", str(damaged), cwd=tmp_path)
    assert result.returncode == 2
    assert "checksum mismatch" in result.stderr
    assert not (tmp_path / "target" / "cowrite.db").exists()


async def test_backup_of_postgres_needs_pg_dump_and_says_so(
    db: TestDatabase, settings: Settings, tmp_path: Path
) -> None:
    """Without the PostgreSQL client tools a PostgreSQL backup stops with a clear message;
    SQLite needs nothing else."""
    env = {**server_env(db, settings.data_dir), "PATH": str(Path(sys.executable).parent)}
    out = tmp_path / "backup.zip"
    result = await asyncio.to_thread(cowrite, env, "backup", "--out", str(out), cwd=tmp_path)
    if db.backend == "postgres":
        assert result.returncode == 2
        assert "`pg_dump` was not found" in result.stderr
        assert not out.exists()
    else:
        assert result.returncode == 0, result.stderr
        assert "manifest.json" in zipfile.ZipFile(out).namelist()
