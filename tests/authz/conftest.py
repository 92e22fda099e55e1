"""One app and one cast of users per backend for the whole matrix: building those is slow."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from cowrite.app import create_app
from tests.authz.cases import World
from tests.conftest import make_settings
from tests.support.databases import TestDatabase
from tests.support.factories import make_user
from tests.support.workspaces import add_member, make_team, make_workspace


@pytest.fixture(scope="module")
async def matrix_app(
    database: TestDatabase, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    settings = make_settings(database.url, tmp_path_factory.mktemp("authz-data"))
    application = create_app(settings)
    try:
        async with application.router.lifespan_context(application):
            yield application
    finally:
        await database.clean()


@pytest.fixture(scope="module")
async def world(matrix_app: FastAPI) -> AsyncIterator[World]:
    transport = httpx.ASGITransport(app=matrix_app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://cowrite.test") as client:
        team = await make_team(client, name="Workspace A")
        other = await make_user(client, full_name="Bea Other")
        workspace_b = await make_workspace(client, other, name="Workspace B")
        await add_member(client, workspace_b["id"], other, team.owner, "owner")
        yield World(client=client, team=team, other=other, other_workspace_id=workspace_b["id"])
