"""Files tests run with small limits so "just over the limit" stays cheap."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cowrite.config import Settings
from tests.conftest import make_settings, server_env
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx
from tests.support.files import BlobSpace, Team
from tests.support.s3 import S3Server, start_s3
from tests.support.server import ServerProcess
from tests.support.workspaces import make_team, make_workspace

MAX_UPLOAD = 256 * 1024
QUOTA = 1024 * 1024
STORAGE_BACKENDS = ["local", "s3"]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on a free loopback port, for the whole run (started on first use)."""
    yield from start_s3()


@pytest.fixture(params=STORAGE_BACKENDS)
def storage_backend(request: pytest.FixtureRequest) -> str:
    """Every test of the files suite runs on local disk and on S3 (moto) storage."""
    backend: str = request.param
    return backend


@pytest.fixture
def storage_url(storage_backend: str, request: pytest.FixtureRequest) -> str | None:
    if storage_backend == "local":
        return None
    server: S3Server = request.getfixturevalue("s3_server")
    return server.storage_url()


@pytest.fixture
def settings(db: TestDatabase, tmp_path: Path, storage_url: str | None) -> Settings:
    return make_settings(
        db.url,
        tmp_path / "data",
        max_upload_bytes=MAX_UPLOAD,
        workspace_quota_bytes=QUOTA,
        storage_url=storage_url,
    )


@pytest.fixture
def blobs(settings: Settings, request: pytest.FixtureRequest) -> BlobSpace:
    """What the test's blob store holds, on whichever backend it runs."""
    if settings.storage_url is None:
        return BlobSpace(settings.data_dir)
    return BlobSpace(settings.data_dir, request.getfixturevalue("s3_server"), settings.storage_url)


@pytest.fixture
def data_dir(settings: Settings) -> Path:
    return settings.data_dir


@pytest.fixture
async def team(client: httpx.AsyncClient, user: UserCtx) -> Team:
    shared = await make_team(client, owner=user)
    elsewhere = await make_workspace(client, shared.outsider, name="Elsewhere")
    return Team(
        workspace_id=uuid.UUID(shared.workspace_id),
        owner=user,
        admin=shared.admin,
        editor=shared.editor,
        viewer=shared.viewer,
        outsider=shared.outsider,
        other_workspace_id=uuid.UUID(elsewhere["id"]),
    )


@pytest.fixture
def server(db: TestDatabase, tmp_path: Path, storage_url: str | None) -> Iterator[ServerProcess]:
    """A real `cowrite serve` over this test's database and storage backend."""
    storage = {"COWRITE_STORAGE_URL": storage_url} if storage_url else {}
    process = ServerProcess(env=server_env(db, tmp_path / "data", **storage), workdir=tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.stop()
