from __future__ import annotations

import httpx
import pytest

from tests.support.workspaces import Team, make_team


@pytest.fixture
async def team(client: httpx.AsyncClient) -> Team:
    return await make_team(client)
