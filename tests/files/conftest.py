"""Files tests run with small limits so "just over the limit" stays cheap."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from cowrite.config import Settings
from tests.conftest import make_settings
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx, make_user
from tests.support.files import Team, add_member, make_workspace

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
async def team(app: FastAPI, client: httpx.AsyncClient, user: UserCtx) -> Team:
    workspace_id = await make_workspace(app, user.id)
    members = {}
    for role in ("admin", "editor", "viewer"):
        members[role] = await make_user(client)
        await add_member(app, workspace_id, members[role].id, role)
    outsider = await make_user(client)
    other_workspace_id = await make_workspace(app, outsider.id, "Elsewhere")
    return Team(
        workspace_id=workspace_id,
        owner=user,
        admin=members["admin"],
        editor=members["editor"],
        viewer=members["viewer"],
        outsider=outsider,
        other_workspace_id=other_workspace_id,
    )
