"""Workspaces deleted long enough ago can be removed for good; recently deleted ones stay."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.models import Membership, Workspace
from cowrite.workspaces import service
from cowrite.workspaces.jobs import purge_deleted_workspaces_once
from tests.support.workspaces import Team, make_workspace


async def test_purge_removes_only_workspaces_deleted_before_the_retention(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    recent = await make_workspace(client, team.owner, name="Recent")
    live = await make_workspace(client, team.owner, name="Live")
    for workspace_id in (team.workspace_id, recent["id"]):
        response = await client.delete(
            f"/api/v1/workspaces/{workspace_id}", headers=team.owner.headers
        )
        assert response.status_code == 204
    old_id = uuid.UUID(team.workspace_id)
    factory = app.state.cowrite.session_factory
    async with unit_of_work(factory) as session:
        old = await session.get(Workspace, old_id)
        assert old is not None
        old.deleted_at = utcnow() - timedelta(days=31)

    async with unit_of_work(factory) as session:
        purged = await service.purge_deleted_workspaces(session, retention_days=30)
    assert purged == [old_id]
    # The background job finds nothing more to do (recent deletions wait for the retention).
    assert await purge_deleted_workspaces_once(app.state.cowrite) == 0

    async with unit_of_work(factory) as session:
        remaining = set((await session.execute(select(Workspace.id))).scalars())
        members_of_old = (
            await session.execute(select(Membership).where(Membership.workspace_id == old_id))
        ).all()
    assert remaining == {uuid.UUID(recent["id"]), uuid.UUID(live["id"])}
    assert members_of_old == []


async def test_the_purge_job_removes_old_deleted_workspaces(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    response = await client.delete(
        f"/api/v1/workspaces/{team.workspace_id}", headers=team.owner.headers
    )
    assert response.status_code == 204
    factory = app.state.cowrite.session_factory
    async with unit_of_work(factory) as session:
        old = await session.get(Workspace, uuid.UUID(team.workspace_id))
        assert old is not None
        old.deleted_at = utcnow() - timedelta(days=400)
    assert await purge_deleted_workspaces_once(app.state.cowrite) == 1
    async with unit_of_work(factory) as session:
        assert await session.get(Workspace, uuid.UUID(team.workspace_id)) is None
