"""Fixtures for the workspace tests: a ready team and a recorder of domain events."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from cowrite.kit.events import MembershipChanged, WorkspaceDeleted
from tests.support.workspaces import Team, make_team


@pytest.fixture
async def team(client: httpx.AsyncClient) -> Team:
    return await make_team(client)


@pytest.fixture
def events(app: FastAPI) -> Iterator[list[object]]:
    """Every MembershipChanged and WorkspaceDeleted the app emits during the test, in order."""
    seen: list[object] = []
    hub = app.state.cowrite.events
    for kind in (MembershipChanged, WorkspaceDeleted):
        hub.subscribe(kind, seen.append)
    yield seen
    for kind in (MembershipChanged, WorkspaceDeleted):
        hub.unsubscribe(kind, seen.append)
