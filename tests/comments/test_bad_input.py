"""What the comments API refuses: bad bodies, anchors, nesting, parents, emoji, floods."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from cowrite.app import create_app
from tests.comments.conftest import document_with, post_comment
from tests.conftest import make_settings
from tests.support.databases import TestDatabase
from tests.support.factories import make_user
from tests.support.workspaces import Team, make_workspace

TEXT = "Short text."


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


BAD_PAYLOADS: list[dict[str, Any]] = [
    {"body": ""},
    {"body": "   \n"},
    {"body": "x" * 10_001},
    {"body": "ok", "anchor": {"from": 5, "to": 2}},
    {"body": "ok", "anchor": {"from": 3, "to": 3}},
    {"body": "ok", "anchor": {"from": 0, "to": 12}},
    {"body": "ok", "anchor": {"from": -1, "to": 2}},
    {"body": "ok", "anchor": {"from": 1}},
    {"body": "ok", "anchor": {"from": 1, "to": 2, "yjs_from": "AA=="}},
    {"body": "ok", "anchor": {"yjs_from": b64(b"\xff\xff"), "yjs_to": b64(b"\x00")}},
    {"body": "ok", "anchor": {"yjs_from": b64(b"\x00\x05\x07\x00"), "yjs_to": "!!"}},
    {"body": "ok", "anchor": {"yjs_from": b64(b"\x01\x05other\x00"), "yjs_to": "AA=="}},
    {"body": "ok", "extra": 1},
]


async def test_bad_bodies_and_anchors_are_422(client: httpx.AsyncClient, team: Team) -> None:
    document_id = await document_with(client, team, TEXT)
    for payload in BAD_PAYLOADS:
        response = await client.post(
            f"/api/v1/documents/{document_id}/comments",
            json=payload,
            headers=team.editor.headers,
        )
        assert response.status_code == 422, (payload, response.text)
    listed = await client.get(
        f"/api/v1/documents/{document_id}/comments", headers=team.editor.headers
    )
    assert listed.json()["items"] == []


async def test_body_of_ten_thousand_characters_is_accepted(
    client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await document_with(client, team, TEXT)
    made = await post_comment(client, team.editor, document_id, "é" * 10_000)
    assert len(made["body"]) == 10_000
    edited = await client.patch(
        f"/api/v1/comments/{made['id']}", json={"body": ""}, headers=team.editor.headers
    )
    assert edited.status_code == 422


async def test_replies_are_one_level_deep_and_stay_in_their_document(
    client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await document_with(client, team, TEXT)
    other_document = await document_with(client, team, TEXT)
    thread = await post_comment(client, team.editor, document_id)
    reply = await post_comment(client, team.editor, document_id, parent_id=thread["id"])
    await post_comment(client, team.editor, document_id, parent_id=reply["id"], expect=422)
    await post_comment(
        client,
        team.editor,
        document_id,
        parent_id=thread["id"],
        anchor={"from": 0, "to": 2},
        expect=422,
    )
    await post_comment(client, team.editor, other_document, parent_id=thread["id"], expect=404)
    await post_comment(
        client,
        team.editor,
        document_id,
        parent_id="00000000-0000-0000-0000-000000000001",
        expect=404,
    )
    # A thread in a workspace the caller does not belong to is just as unknown.
    stranger = await make_user(client)
    elsewhere = await make_workspace(client, stranger)
    foreign_doc = (
        await client.post(
            f"/api/v1/workspaces/{elsewhere['id']}/documents",
            json={"title": "x", "content": TEXT},
            headers=stranger.headers,
        )
    ).json()["id"]
    foreign = await post_comment(client, stranger, foreign_doc)
    await post_comment(client, team.editor, document_id, parent_id=foreign["id"], expect=404)


@pytest.fixture
async def strict_client(db: TestDatabase, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(
        db.url, tmp_path / "data", comment_rate_burst=5, comment_rate_per_second=0.01
    )
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://cowrite.test") as c:
            yield c


async def test_a_flood_of_comments_is_rate_limited_per_user(
    strict_client: httpx.AsyncClient,
) -> None:
    from tests.support.workspaces import make_team

    team = await make_team(strict_client)
    document_id = await document_with(strict_client, team, TEXT)
    for _ in range(5):
        await post_comment(strict_client, team.editor, document_id)
    response = await strict_client.post(
        f"/api/v1/documents/{document_id}/comments",
        json={"body": "one more"},
        headers=team.editor.headers,
    )
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited" and "Retry-After" in response.headers
    # Another user still has their own allowance.
    await post_comment(strict_client, team.commenter, document_id)
