"""Comments make notifications: mentions, replies in a thread one wrote in, new threads on
followed documents; never about one's own comment, never for someone who cannot see it."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from tests.notifications.conftest import about_documents, settled
from tests.support.documents import create_document
from tests.support.factories import UserCtx, make_user
from tests.support.workspaces import Team


async def comment(
    client: httpx.AsyncClient, user: UserCtx, document_id: str, body: str, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/documents/{document_id}/comments",
        json={"body": body, **extra},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def mention(user: UserCtx) -> str:
    return f"@[{user.full_name}](user:{user.id})"


async def test_comments_notify_mentioned_people_followers_and_thread_writers(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id, title="Launch")
    stranger = await make_user(client, full_name="Sam Stranger")
    await settled(app)

    # A new thread by the commenter, mentioning the viewer and someone outside the workspace.
    thread = await comment(
        client,
        team.commenter,
        document["id"],
        f"{mention(team.viewer)} and {mention(stranger)}: please look",
    )
    await settled(app)
    [for_viewer] = await about_documents(client, team.viewer)
    assert (for_viewer["kind"], for_viewer["comment_id"]) == ("mention", thread["id"])
    assert for_viewer["actor"]["full_name"] == "Cora Commenter"
    assert for_viewer["title"] == "Launch"
    [for_creator] = await about_documents(client, team.editor)  # follows what they created
    assert (for_creator["kind"], for_creator["comment_id"]) == ("comment", thread["id"])
    assert await about_documents(client, stranger) == []  # cannot see it: nothing, no leak
    assert await about_documents(client, team.commenter) == []  # not about one's own comment

    # The creator replies: the thread's writer hears of the reply, the replier of nothing.
    reply = await comment(client, team.editor, document["id"], "Done", parent_id=thread["id"])
    await settled(app)
    kinds = [(n["kind"], n["comment_id"]) for n in await about_documents(client, team.commenter)]
    assert kinds == [("reply", reply["id"])]
    assert [n["kind"] for n in await about_documents(client, team.editor)] == ["comment"]


async def test_a_comment_on_a_rich_document_notifies_with_its_excerpt(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    created = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={
            "title": "Brochure",
            "content": "# Brochure\n\nThe **bold** offer.\n",
            "format": "rich",
        },
        headers=team.editor.headers,
    )
    assert created.status_code == 201, created.text
    await settled(app)
    thread = await comment(
        client,
        team.commenter,
        created.json()["id"],
        f"{mention(team.viewer)} is this   offer\nreal?",
        anchor={"from": 13, "to": 17},  # "bold" in "Brochure\nThe bold offer."
    )
    assert thread["anchor"]["quote"] == "bold"
    await settled(app)
    [for_viewer] = await about_documents(client, team.viewer)
    assert (for_viewer["kind"], for_viewer["title"]) == ("mention", "Brochure")
    assert for_viewer["excerpt"] == f"{mention(team.viewer)} is this offer real?"
    [for_creator] = await about_documents(client, team.editor)
    assert for_creator["kind"] == "comment" and "offer real?" in for_creator["excerpt"]
