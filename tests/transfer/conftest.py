"""Export and import tests run with small import limits, so hostile archives stay cheap."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from cowrite.config import Settings
from tests.conftest import make_settings
from tests.support.databases import TestDatabase
from tests.support.workspaces import Team, make_team

MAX_ENTRIES = 50
MAX_TOTAL = 4 * 1024 * 1024
MAX_RATIO = 50.0
MAX_IMPORT_UPLOAD = 8 * 1024 * 1024


@pytest.fixture
def settings(db: TestDatabase, tmp_path: Path) -> Settings:
    return make_settings(
        db.url,
        tmp_path / "data",
        import_max_entries=MAX_ENTRIES,
        import_max_total_bytes=MAX_TOTAL,
        import_max_ratio=MAX_RATIO,
        import_max_bytes=MAX_IMPORT_UPLOAD,
        job_poll_seconds=0.2,
    )


@pytest.fixture
async def team(client: httpx.AsyncClient) -> Team:
    return await make_team(client)


@pytest.fixture
def data_dir(settings: Settings) -> Path:
    return settings.data_dir
