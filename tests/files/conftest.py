"""Files tests run with small limits so "just over the limit" stays cheap."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from cowrite.config import Settings
from tests.conftest import make_settings
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx
from tests.support.files import Team
from tests.support.workspaces import make_team, make_workspace

MAX_UPLOAD = 256 * 1024
QUOTA = 1024 * 1024


@pytest.fixture
def settings(db: TestDatabase, tmp_path: Path) -> Settings:
    return make_settings(
        db.url, tmp_path / "data", max_upload_bytes=MAX_UPLOAD, workspace_quota_bytes=QUOTA
    )


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
