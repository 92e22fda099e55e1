from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cowrite.config import Settings
from tests.conftest import make_settings
from tests.support.databases import TestDatabase
from tests.support.receiver import Receiver
from tests.support.workspaces import Team, make_team

# Quick retries and a short timeout, so that retry and turn-off stories play out in a second.
FAST = {
    "webhooks_allow_private": True,
    "webhooks_retry_first_seconds": 0.2,
    "webhooks_retry_max_seconds": 0.4,
    "webhooks_poll_seconds": 0.1,
    "webhooks_timeout_seconds": 1.0,
}


@pytest.fixture
def settings(db: TestDatabase, tmp_path: Path) -> Settings:
    return make_settings(db.url, tmp_path / "data", **FAST)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    peer = await Receiver().start()
    yield peer
    await peer.close()


@pytest.fixture
async def team(client: httpx.AsyncClient) -> Team:
    return await make_team(client)


async def add_webhook(
    client: httpx.AsyncClient, team: Team, url: str, events: list[str]
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/webhooks",
        json={"url": url, "events": events},
        headers=team.admin.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body
