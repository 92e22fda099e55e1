"""A document create is one transaction: the document, its tags, version 1, the author's
subscription and the webhook deliveries commit together, and its answer is the document as
a read shows it."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from cowrite.db import unit_of_work
from cowrite.models import DocumentSubscription, DocumentVersion
from cowrite.state import AppState
from tests.support.factories import UserCtx
from tests.support.workspaces import Team


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.cowrite
    return state


async def create(
    client: httpx.AsyncClient, user: UserCtx, workspace_id: str, **body: object
) -> httpx.Response:
    return await client.post(
        f"/api/v1/workspaces/{workspace_id}/documents", json=body, headers=user.headers
    )


async def test_the_author_follows_from_the_create_itself(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    # With the notification worker stopped, nothing after the commit can write the
    # subscription: it is there because the create wrote it.
    state = state_of(app)
    assert state.notifications is not None
    await state.notifications.close()
    answer = await create(client, team.editor, team.workspace_id, title="Plan", content="x")
    assert answer.status_code == 201, answer.text
    document_id = uuid.UUID(answer.json()["id"])
    async with unit_of_work(state.session_factory) as session:
        subscriptions = (
            await session.execute(
                select(DocumentSubscription.user_id, DocumentSubscription.following).where(
                    DocumentSubscription.document_id == document_id
                )
            )
        ).all()
        versions = (
            await session.execute(
                select(DocumentVersion.number).where(DocumentVersion.document_id == document_id)
            )
        ).all()
    assert [(row[0], row[1]) for row in subscriptions] == [(team.editor.id, True)]
    assert [row[0] for row in versions] == [1]
    following = await client.get(
        f"/api/v1/documents/{document_id}/subscription", headers=team.editor.headers
    )
    assert following.json() == {"following": True}
    others = await client.get(
        f"/api/v1/documents/{document_id}/subscription", headers=team.owner.headers
    )
    assert others.json() == {"following": False}


@pytest.mark.parametrize(
    "tags", [[], ["solo"], ["zeta", "Alpha", "mid dle", "beta"]], ids=["none", "one", "many"]
)
async def test_the_create_answers_the_document_as_a_read_shows_it(
    client: httpx.AsyncClient, team: Team, tags: list[str]
) -> None:
    answer = await create(
        client, team.editor, team.workspace_id, title="  Notes ", content="# Hi\n", tags=tags
    )
    assert answer.status_code == 201, answer.text
    assert answer.headers["content-type"] == "application/json"
    created = answer.json()
    read = await client.get(f"/api/v1/documents/{created['id']}", headers=team.editor.headers)
    assert read.status_code == 200, read.text
    shown = read.json()
    assert shown.pop("role") == "editor"
    assert created == shown
    assert created["title"] == "Notes"
    assert created["tags"] == sorted(tag.lower() for tag in tags)
    assert created["version"] == 1
    assert created["created_by"] == created["updated_by"] == str(team.editor.id)


async def test_a_refused_create_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    viewer = await create(client, team.viewer, team.workspace_id, title="Nope")
    assert viewer.status_code == 403
    too_big = await create(
        client,
        team.editor,
        team.workspace_id,
        title="Big",
        content="x" * (state_of(app).settings.max_document_bytes + 1),
    )
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "document_too_large"
    async with unit_of_work(state_of(app).session_factory) as session:
        left = (await session.execute(select(DocumentSubscription.document_id))).all()
    assert left == []
