"""Version history over REST: folding, snapshots, reading, diffs and restores."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.models import DocumentVersion
from tests.support.documents import create_document
from tests.support.workspaces import Team


def versions_url(document: dict[str, Any], suffix: str = "") -> str:
    return f"/api/v1/documents/{document['id']}/versions{suffix}"


async def edit(client: httpx.AsyncClient, user: Any, document: dict[str, Any], **body: Any) -> None:
    response = await client.patch(
        f"/api/v1/documents/{document['id']}", json=body, headers=user.headers
    )
    assert response.status_code == 200, response.text


async def history(client: httpx.AsyncClient, team: Team, document: dict[str, Any]) -> list[Any]:
    response = await client.get(versions_url(document), headers=team.viewer.headers)
    assert response.status_code == 200
    items: list[Any] = response.json()["items"]
    return items


async def age_versions(app: FastAPI, document: dict[str, Any], seconds: int) -> None:
    async with unit_of_work(app.state.cowrite.session_factory) as session:
        await session.execute(
            update(DocumentVersion)
            .where(DocumentVersion.document_id == uuid.UUID(document["id"]))
            .values(updated_at=utcnow() - timedelta(seconds=seconds))
        )


async def test_quick_edits_by_one_author_fold_into_one_version(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id, "Log", "a")
    for text in ("a b", "a b c", "a b c d"):
        await edit(client, team.editor, document, content=text)
    [only] = await history(client, team, document)
    assert only["number"] == 1
    assert only["author_id"] == str(team.editor.id)
    assert only["content_size"] == len("a b c d")

    # Another author starts a version of their own.
    await edit(client, team.admin, document, content="admin was here")
    # After the window, the same author starts a new one too.
    await age_versions(app, document, 61)
    await edit(client, team.admin, document, title="Log (final)")
    items = await history(client, team, document)
    assert [item["number"] for item in items] == [3, 2, 1]
    assert [item["author_id"] for item in items] == [str(team.admin.id)] * 2 + [str(team.editor.id)]
    assert items[0]["title"] == "Log (final)"
    # Tags alone are not part of the text history.
    await edit(client, team.admin, document, tags=["x"])
    assert len(await history(client, team, document)) == 3


async def test_snapshot_with_a_label_and_read_every_version(
    client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id, "Spec", "line 1\n")
    response = await client.post(
        versions_url(document), json={"label": "  Draft 1 "}, headers=team.editor.headers
    )
    assert response.status_code == 201
    snapshot = response.json()
    assert (snapshot["number"], snapshot["label"], snapshot["source"]) == (2, "Draft 1", "snapshot")
    # A labelled version is never folded into.
    await edit(client, team.editor, document, content="line 1\nline 2\n")
    unlabelled = await client.post(versions_url(document), json={}, headers=team.editor.headers)
    assert unlabelled.status_code == 201
    assert unlabelled.json()["label"] is None

    contents = {}
    for number in (1, 2, 3, 4):
        response = await client.get(
            versions_url(document, f"/{number}"), headers=team.viewer.headers
        )
        assert response.status_code == 200
        contents[number] = response.json()["content"]
    assert contents == {1: "line 1\n", 2: "line 1\n", 3: "line 1\nline 2\n", 4: "line 1\nline 2\n"}

    viewer = await client.post(versions_url(document), json={}, headers=team.viewer.headers)
    assert viewer.status_code == 403
    outsider = await client.get(versions_url(document), headers=team.outsider.headers)
    assert outsider.status_code == 404


async def test_diff_between_versions_and_against_current(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    app.state.cowrite.settings.version_fold_seconds = 0
    document = await create_document(
        client, team.editor, team.workspace_id, "Poem", "roses are red\nviolets are blue\n"
    )
    await edit(client, team.editor, document, content="roses are red\nviolets are violet\n")
    await edit(client, team.editor, document, content="roses are red\nviolets are violet\nend\n")

    response = await client.get(
        versions_url(document, "/1/diff"), params={"against": 2}, headers=team.viewer.headers
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == (1, 2)
    assert "-violets are blue\n" in body["unified"]
    assert "+violets are violet\n" in body["unified"]
    assert body["unified"].startswith("--- version 1\n+++ version 2\n")

    current = await client.get(versions_url(document, "/2/diff"), headers=team.viewer.headers)
    assert current.json()["to"] == "current"
    assert current.json()["unified"].splitlines()[-1] == "+end"
    same = await client.get(
        versions_url(document, "/3/diff"),
        params={"against": "current"},
        headers=team.viewer.headers,
    )
    assert same.json()["unified"] == ""


@pytest.mark.parametrize(
    ("suffix", "params", "status"),
    [
        ("/99", {}, 404),
        ("/99/diff", {}, 404),
        ("/1/diff", {"against": 99}, 404),
        ("/1/diff", {"against": "latest"}, 422),
        ("/1/diff", {"against": "-1"}, 422),
        ("/1/diff", {"against": "99999999999999999999"}, 422),
        ("/0", {}, 422),
        ("/99999999999999", {}, 422),
        ("/one", {}, 422),
    ],
)
async def test_missing_or_malformed_versions(
    client: httpx.AsyncClient, team: Team, suffix: str, params: dict[str, Any], status: int
) -> None:
    document = await create_document(client, team.editor, team.workspace_id)
    response = await client.get(
        versions_url(document, suffix), params=params, headers=team.viewer.headers
    )
    assert response.status_code == status, response.text
    restore = await client.post(versions_url(document, "/99/restore"), headers=team.editor.headers)
    assert restore.status_code == 404
    assert restore.json()["code"] == "version_not_found"


async def test_restore_makes_a_new_version_and_rewrites_nothing(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id, "First", "one\n")
    await edit(client, team.admin, document, title="Second", content="two\n")
    response = await client.post(versions_url(document, "/1/restore"), headers=team.editor.headers)
    assert response.status_code == 200
    restored = response.json()
    assert (restored["title"], restored["content"]) == ("First", "one\n")
    assert restored["version"] == 3
    items = await history(client, team, document)
    assert [(item["number"], item["title"]) for item in items] == [
        (3, "First"),
        (2, "Second"),
        (1, "First"),
    ]
    assert items[0]["label"] == "Restored from version 1"
    assert items[0]["source"] == "restore"
    second = await client.get(versions_url(document, "/2"), headers=team.viewer.headers)
    assert second.json()["content"] == "two\n"
    viewer = await client.post(versions_url(document, "/2/restore"), headers=team.viewer.headers)
    assert viewer.status_code == 403


async def test_history_pages_newest_first(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    app.state.cowrite.settings.version_fold_seconds = 0
    document = await create_document(client, team.editor, team.workspace_id, "Counter", "0")
    for n in range(1, 7):
        await edit(client, team.editor, document, content=str(n))
    numbers: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        response = await client.get(
            versions_url(document), params=params, headers=team.viewer.headers
        )
        page = response.json()
        numbers += [item["number"] for item in page["items"]]
        assert all("content" not in item for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert numbers == [7, 6, 5, 4, 3, 2, 1]


async def test_versions_of_a_trashed_document_are_hidden(
    client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id)
    assert (
        await client.delete(f"/api/v1/documents/{document['id']}", headers=team.editor.headers)
    ).status_code == 204
    assert (
        await client.get(versions_url(document), headers=team.editor.headers)
    ).status_code == 404
