"""The comment-driven kinds (mention, reply, comment), called with plain ids as the comments
feature will call them, and the retention clean-up."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select, update

from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.models import Notification
from cowrite.notifications import service
from cowrite.notifications.service import Policy
from cowrite.notifications.tasks import delete_old_notifications
from cowrite.state import AppState
from tests.notifications.conftest import about_documents, dispatcher_of, settled
from tests.support.documents import create_document
from tests.support.workspaces import Team

POLICY = Policy()


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.cowrite
    return state


async def mute(client: httpx.AsyncClient, user: object, document_id: str) -> None:
    response = await client.delete(
        f"/api/v1/documents/{document_id}/subscription",
        headers=user.headers,  # type: ignore[attr-defined]
    )
    assert response.status_code == 200


async def test_mentions_reach_members_who_see_the_document_even_when_muted(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.owner, team.workspace_id, title="Plan")
    await mute(client, team.viewer, document["id"])
    comment_id = uuid.uuid4()
    async with unit_of_work(state_of(app).session_factory) as session:
        made = await service.notify_mention(
            session,
            POLICY,
            document_id=uuid.UUID(document["id"]),
            comment_id=comment_id,
            actor_id=team.editor.id,
            # the actor, a muted viewer, an admin, and someone outside the workspace
            mentioned_user_ids=[team.editor.id, team.viewer.id, team.admin.id, team.outsider.id],
            excerpt="@Vera and @Ada, please  look\nat this",
        )
    assert sorted(n.user_id for n in made) == sorted([team.viewer.id, team.admin.id])
    [for_viewer] = await about_documents(client, team.viewer)
    assert for_viewer["kind"] == "mention"
    assert for_viewer["comment_id"] == str(comment_id)
    assert for_viewer["title"] == "Plan"
    assert for_viewer["excerpt"] == "@Vera and @Ada, please look at this"
    assert for_viewer["actor"]["full_name"] == "Eddie Editor"
    assert await about_documents(client, team.outsider) == []
    assert await about_documents(client, team.editor) == []


async def test_replies_reach_the_thread_but_not_the_muted_nor_the_mentioned(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.owner, team.workspace_id)
    await mute(client, team.viewer, document["id"])
    async with unit_of_work(state_of(app).session_factory) as session:
        made = await service.notify_reply(
            session,
            POLICY,
            document_id=uuid.UUID(document["id"]),
            comment_id=uuid.uuid4(),
            actor_id=team.editor.id,
            participant_ids=[team.owner.id, team.editor.id, team.viewer.id, team.admin.id],
            excerpt="Agreed",
            skip_user_ids=[team.admin.id],  # mentioned in the same reply: gets the mention
        )
    assert [n.user_id for n in made] == [team.owner.id]
    assert [n["kind"] for n in await about_documents(client, team.owner)] == ["reply"]


async def test_new_threads_reach_followers_and_the_commenter_follows(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.owner, team.workspace_id)
    await settled(app)  # the creator follows it
    document_id = uuid.UUID(document["id"])
    async with unit_of_work(state_of(app).session_factory) as session:
        first = await service.notify_comment(
            session,
            POLICY,
            document_id=document_id,
            comment_id=uuid.uuid4(),
            actor_id=team.viewer.id,
            excerpt="A question",
        )
    assert [n.user_id for n in first] == [team.owner.id]
    following = await client.get(
        f"/api/v1/documents/{document['id']}/subscription", headers=team.viewer.headers
    )
    assert following.json() == {"following": True}
    async with unit_of_work(state_of(app).session_factory) as session:
        second = await service.notify_comment(
            session,
            POLICY,
            document_id=document_id,
            comment_id=uuid.uuid4(),
            actor_id=team.owner.id,
            excerpt="An answer in a new thread",
        )
    assert [n.user_id for n in second] == [team.viewer.id]


async def test_one_call_from_another_feature_delivers(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    """How the comments feature wires a mention: one call after its commit, nothing awaited."""
    document = await create_document(client, team.owner, team.workspace_id)
    dispatcher_of(app).notify_mention(
        document_id=uuid.UUID(document["id"]),
        comment_id=uuid.uuid4(),
        actor_id=team.owner.id,
        mentioned_user_ids=[team.editor.id],
        excerpt="ping",
    )
    await settled(app)
    assert [n["kind"] for n in await about_documents(client, team.editor)] == ["mention"]
    trashed = await client.delete(f"/api/v1/documents/{document['id']}", headers=team.owner.headers)
    assert trashed.status_code == 204
    dispatcher_of(app).notify_mention(
        document_id=uuid.UUID(document["id"]),
        comment_id=uuid.uuid4(),
        actor_id=team.owner.id,
        mentioned_user_ids=[team.admin.id],
        excerpt="in the trash now",
    )
    await settled(app)
    assert await about_documents(client, team.admin) == []


async def test_read_notifications_past_the_retention_are_deleted(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    state = state_of(app)
    document = await create_document(client, team.owner, team.workspace_id)
    async with unit_of_work(state.session_factory) as session:
        made = await service.notify_mention(
            session,
            POLICY,
            document_id=uuid.UUID(document["id"]),
            comment_id=uuid.uuid4(),
            actor_id=team.owner.id,
            mentioned_user_ids=[team.editor.id, team.viewer.id, team.admin.id],
            excerpt="old news",
        )
    by_user = {n.user_id: n.id for n in made}
    long_ago = utcnow() - timedelta(days=91)
    async with unit_of_work(state.session_factory) as session:
        # editor: read long ago; viewer: unread, made long ago; admin: read recently
        await session.execute(
            update(Notification)
            .where(Notification.id == by_user[team.editor.id])
            .values(read_at=long_ago, created_at=long_ago)
        )
        await session.execute(
            update(Notification)
            .where(Notification.id == by_user[team.viewer.id])
            .values(created_at=long_ago)
        )
        await session.execute(
            update(Notification)
            .where(Notification.id == by_user[team.admin.id])
            .values(read_at=utcnow(), created_at=long_ago)
        )
    assert await delete_old_notifications(state) == 1
    async with unit_of_work(state.session_factory) as session:
        left = set((await session.execute(select(Notification.id))).scalars())
    assert by_user[team.editor.id] not in left
    assert {by_user[team.viewer.id], by_user[team.admin.id]} <= left
