"""A notification about what the reader may no longer see is neither listed, nor counted (over
REST or in the count a push carries), nor read by id or by "read all"; it shows again, still
unread, once access is given back."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI

from cowrite.db import unit_of_work
from cowrite.notifications import repository
from cowrite.state import AppState
from tests.notifications.conftest import inbox, settled, unread
from tests.support.documents import (
    create_document,
    delete_workspace,
    list_on_document,
    restrict_document,
)
from tests.support.factories import UserCtx
from tests.support.workspaces import Team, add_member

Step = Callable[[httpx.AsyncClient, Team, str], Awaitable[None]]


async def mention(
    app: FastAPI, client: httpx.AsyncClient, team: Team, document_id: str, who: UserCtx
) -> str:
    """The owner mentions `who` in a comment on the document; the id of their notification."""
    body = {"body": f"Over to you @[{who.full_name}](user:{who.id})"}
    posted = await client.post(
        f"/api/v1/documents/{document_id}/comments", json=body, headers=team.owner.headers
    )
    assert posted.status_code == 201, posted.text
    await settled(app)
    [notification] = [n for n in await inbox(client, who) if n["kind"] == "mention"]
    return str(notification["id"])


async def counted(app: FastAPI, client: httpx.AsyncClient, who: UserCtx) -> int:
    """The unread count over REST, checked against the count a live push carries and against
    the unread notifications listed."""
    state: AppState = app.state.cowrite
    async with unit_of_work(state.reader_factory) as session:
        pushed = await repository.unread_counts(session, [who.id])
    listed = len(await inbox(client, who, unread="true"))
    count = await unread(client, who)
    assert pushed == {who.id: count}
    assert listed == count
    return count


async def ok(response: httpx.Response, status: int = 204) -> None:
    assert response.status_code == status, response.text


# -- the ways a document's notification becomes unseen, and how access comes back -------------


async def restrict(client: httpx.AsyncClient, team: Team, document_id: str) -> None:
    await restrict_document(client, team.owner, document_id)


async def list_viewer(client: httpx.AsyncClient, team: Team, document_id: str) -> None:
    await list_on_document(client, team.owner, document_id, team.viewer.email, "viewer")


async def remove_viewer(client: httpx.AsyncClient, team: Team, _document_id: str) -> None:
    url = f"/api/v1/workspaces/{team.workspace_id}/members/{team.viewer.id}"
    await ok(await client.delete(url, headers=team.owner.headers))


async def add_viewer(client: httpx.AsyncClient, team: Team, _document_id: str) -> None:
    await add_member(client, team.workspace_id, team.owner, team.viewer, "viewer")


async def trash(client: httpx.AsyncClient, team: Team, document_id: str) -> None:
    await ok(await client.delete(f"/api/v1/documents/{document_id}", headers=team.owner.headers))


async def restore(client: httpx.AsyncClient, team: Team, document_id: str) -> None:
    url = f"/api/v1/documents/{document_id}/restore"
    await ok(await client.post(url, headers=team.owner.headers), 200)


async def delete_the_workspace(client: httpx.AsyncClient, team: Team, _document_id: str) -> None:
    await delete_workspace(client, team.owner, team.workspace_id)


@dataclass(frozen=True)
class Way:
    hide: Step
    # None: nothing gives it back.
    give_back: Step | None
    # How many of the viewer's unread notifications go with it (joining the workspace too,
    # when the workspace itself is out of reach).
    hidden: int


WAYS = {
    "restricted": Way(restrict, list_viewer, hidden=1),
    "membership removed": Way(remove_viewer, add_viewer, hidden=2),
    "trashed": Way(trash, restore, hidden=1),
    "workspace deleted": Way(delete_the_workspace, None, hidden=2),
}


@pytest.mark.parametrize("way", WAYS.values(), ids=WAYS.keys())
async def test_a_notification_about_a_document_out_of_sight_is_not_seen_until_it_is_back(
    app: FastAPI, client: httpx.AsyncClient, team: Team, way: Way
) -> None:
    reader = team.viewer
    document = await create_document(client, team.owner, team.workspace_id)
    notification_id = await mention(app, client, team, document["id"], reader)
    before = await counted(app, client, reader)  # the mention and joining the workspace
    assert before == 2

    await way.hide(client, team, document["id"])
    await assert_unseen(app, client, reader, notification_id, before - way.hidden)

    if way.give_back is None:
        return
    await way.give_back(client, team, document["id"])
    await settled(app)
    [back] = [n for n in await inbox(client, reader, unread="true") if n["id"] == notification_id]
    assert back["read_at"] is None  # "read all" left it alone while it was out of sight
    assert await counted(app, client, reader) >= 1
    url = f"/api/v1/notifications/{notification_id}/read"
    read = await client.post(url, headers=reader.headers)
    assert read.status_code == 200 and read.json()["read_at"] is not None


async def assert_unseen(
    app: FastAPI, client: httpx.AsyncClient, reader: UserCtx, notification_id: str, left: int
) -> None:
    """The notification is out of every read of the reader's; `left` others are still unread,
    and "read all" marks those only."""
    assert notification_id not in {n["id"] for n in await inbox(client, reader)}
    assert await counted(app, client, reader) == left
    url = f"/api/v1/notifications/{notification_id}/read"
    missing = await client.post(url, headers=reader.headers)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    everything = await client.post("/api/v1/notifications/read-all", headers=reader.headers)
    assert everything.json() == {"updated": left}
    assert await counted(app, client, reader) == 0


async def test_a_guest_removed_from_a_document_no_longer_sees_its_notifications(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    guest = team.outsider
    document = await create_document(client, team.owner, team.workspace_id)
    await restrict_document(client, team.owner, document["id"])
    await list_on_document(client, team.owner, document["id"], guest.email, "commenter")
    notification_id = await mention(app, client, team, document["id"], guest)
    assert await counted(app, client, guest) == 2  # shared with them, then the mention

    removed = await client.delete(
        f"/api/v1/documents/{document['id']}/members/{guest.id}", headers=team.owner.headers
    )
    await ok(removed)
    await assert_unseen(app, client, guest, notification_id, 0)
    assert await inbox(client, guest) == []

    await list_on_document(client, team.owner, document["id"], guest.email, "viewer")
    await settled(app)
    # What they had is back, unread as it was, and they are told of the new listing.
    kinds = sorted(n["kind"] for n in await inbox(client, guest, unread="true"))
    assert kinds == ["document_shared", "document_shared", "mention"]
    assert await counted(app, client, guest) == 3


async def test_seen_and_unseen_notifications_of_several_people_count_apart(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    """The counts a fan-out pushes, for several readers at once, follow each one's access."""
    state: AppState = app.state.cowrite
    document = await create_document(client, team.owner, team.workspace_id)
    for reader in (team.viewer, team.editor, team.commenter):
        await mention(app, client, team, document["id"], reader)
    await restrict_document(client, team.owner, document["id"])
    await list_on_document(client, team.owner, document["id"], team.editor.email, "editor")
    await settled(app)
    readers = [team.viewer.id, team.editor.id, team.commenter.id, uuid.uuid4()]
    async with unit_of_work(state.reader_factory) as session:
        counts = await repository.unread_counts(session, readers)
    # joining the workspace for each; the mention for the editor only (listed), who was also
    # told of the listing
    assert counts == {team.viewer.id: 1, team.editor.id: 3, team.commenter.id: 1, readers[-1]: 0}
    for reader in (team.viewer, team.editor, team.commenter):
        assert await counted(app, client, reader) == counts[reader.id]
