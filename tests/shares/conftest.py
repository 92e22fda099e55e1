"""The cast of the share-link tests: a team and a document its owner wrote."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.support.documents import create_document
from tests.support.workspaces import Team, make_team


@pytest.fixture
async def team(client: httpx.AsyncClient) -> Team:
    return await make_team(client)


@pytest.fixture
async def document(client: httpx.AsyncClient, team: Team) -> dict[str, Any]:
    return await create_document(
        client, team.owner, team.workspace_id, title="Launch plan", content="# Plan\nShip it."
    )
