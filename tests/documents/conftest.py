from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.support.documents import Team, make_team


@pytest.fixture
async def team(app: FastAPI, client: httpx.AsyncClient) -> Team:
    return await make_team(app, client)
