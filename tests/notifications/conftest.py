"""Fixtures for notification tests: a team, and a way to wait until delivery has caught up."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cowrite.notifications.dispatch import NotificationDispatcher
from tests.support.factories import UserCtx
from tests.support.workspaces import Team, make_team


@pytest.fixture
async def team(client: httpx.AsyncClient) -> Team:
    return await make_team(client)


def dispatcher_of(app: FastAPI) -> NotificationDispatcher:
    dispatcher = app.state.cowrite.notifications
    assert dispatcher is not None
    return dispatcher


async def settled(app: FastAPI) -> None:
    """Until every notification job queued so far has run (delivery is off the request path)."""
    await dispatcher_of(app).idle()


async def inbox(client: httpx.AsyncClient, user: UserCtx, **params: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/notifications", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def unread(client: httpx.AsyncClient, user: UserCtx) -> int:
    response = await client.get("/api/v1/notifications/unread-count", headers=user.headers)
    assert response.status_code == 200, response.text
    count: int = response.json()["count"]
    return count


async def about_documents(client: httpx.AsyncClient, user: UserCtx) -> list[dict[str, Any]]:
    """The user's notifications that concern a document (joining the team's workspace aside)."""
    return [item for item in await inbox(client, user) if item["document_id"] is not None]
