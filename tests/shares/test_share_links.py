"""Share links over REST: made by editors, read by anyone with the token, locked by a password,
revoked at once, and gone with the workspace's public sharing (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from cowrite.db import create_engine, create_session_factory, unit_of_work
from cowrite.models import ShareLink
from tests.support.databases import TestDatabase
from tests.support.workspaces import Team


async def _share(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any], **body: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/documents/{document['id']}/shares", json=body, headers=team.editor.headers
    )
    assert response.status_code == 201, response.text
    link: dict[str, Any] = response.json()
    return link


def _in(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def test_anyone_with_the_link_reads_the_document(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    link = await _share(client, team, document)
    assert link["token"] and link["url"].endswith(f"/s/{link['token']}")
    assert link["has_password"] is False and link["created_by"] == str(team.editor.id)

    shared = await client.get(f"/api/v1/shared/{link['token']}")
    assert shared.status_code == 200, shared.text
    assert shared.json()["title"] == "Launch plan"
    assert shared.json()["content"] == "# Plan\nShip it."
    assert shared.json()["document_id"] == document["id"]
    assert shared.headers["x-robots-tag"].startswith("noindex")
    assert shared.headers["cache-control"] == "no-store"

    listed = await client.get(
        f"/api/v1/documents/{document['id']}/shares", headers=team.editor.headers
    )
    assert listed.status_code == 200
    [item] = listed.json()
    assert item["id"] == link["id"] and item["token"] is None  # the secret is shown once
    assert item["view_count"] == 1 and item["last_used_at"] is not None


async def test_a_link_may_let_search_engines_index_it(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    link = await _share(client, team, document, noindex=False)
    shared = await client.get(f"/api/v1/shared/{link['token']}")
    assert shared.status_code == 200 and "x-robots-tag" not in shared.headers


async def test_viewers_may_not_make_or_list_links(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    url = f"/api/v1/documents/{document['id']}/shares"
    assert (await client.post(url, json={}, headers=team.viewer.headers)).status_code == 403
    assert (await client.get(url, headers=team.commenter.headers)).status_code == 403
    assert (await client.post(url, json={}, headers=team.outsider.headers)).status_code == 404
    assert (await client.post(url, json={})).status_code == 401


async def test_revoking_stops_the_link_at_once(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    link = await _share(client, team, document)
    url = f"/api/v1/shares/{link['id']}"
    assert (await client.delete(url, headers=team.viewer.headers)).status_code == 403
    assert (await client.delete(url, headers=team.outsider.headers)).status_code == 404
    assert (await client.delete(url, headers=team.admin.headers)).status_code == 204
    assert (await client.get(f"/api/v1/shared/{link['token']}")).status_code == 404
    assert (await client.delete(url, headers=team.admin.headers)).status_code == 404
    listed = await client.get(
        f"/api/v1/documents/{document['id']}/shares", headers=team.editor.headers
    )
    assert listed.json() == []


async def test_expiry(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any], db: TestDatabase
) -> None:
    url = f"/api/v1/documents/{document['id']}/shares"
    past = await client.post(url, json={"expires_at": _in(-60)}, headers=team.editor.headers)
    assert past.status_code == 422 and "expires_at" in past.json()["detail"]
    naive = await client.post(
        url, json={"expires_at": "2099-01-01T00:00:00"}, headers=team.editor.headers
    )
    assert naive.status_code == 422

    link = await _share(client, team, document, expires_at=_in(3600))
    assert (await client.get(f"/api/v1/shared/{link['token']}")).status_code == 200
    # The hour passes: the link stops working.
    engine = create_engine(db.url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            await session.execute(
                update(ShareLink)
                .where(ShareLink.id == uuid.UUID(link["id"]))
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
    finally:
        await engine.dispose()
    assert (await client.get(f"/api/v1/shared/{link['token']}")).status_code == 404


async def test_trashed_document_hides_its_links_until_restored(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    link = await _share(client, team, document)
    trashed = await client.delete(
        f"/api/v1/documents/{document['id']}", headers=team.editor.headers
    )
    assert trashed.status_code == 204
    assert (await client.get(f"/api/v1/shared/{link['token']}")).status_code == 404
    restored = await client.post(
        f"/api/v1/documents/{document['id']}/restore", headers=team.editor.headers
    )
    assert restored.status_code == 200
    assert (await client.get(f"/api/v1/shared/{link['token']}")).status_code == 200


async def test_password_protected_link(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    link = await _share(client, team, document, password="open sesame")
    assert link["has_password"] is True
    shared = f"/api/v1/shared/{link['token']}"

    locked = await client.get(shared)
    assert locked.status_code == 401 and locked.json()["code"] == "password_required"
    # A member's own access token is no key to the link.
    assert (await client.get(shared, headers=team.owner.headers)).status_code == 401

    wrong = await client.post(f"{shared}/unlock", json={"password": "guess"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "invalid_password"
    unlocked = await client.post(f"{shared}/unlock", json={"password": "open sesame"})
    assert unlocked.status_code == 200, unlocked.text
    token = unlocked.json()["access_token"]
    assert unlocked.json()["expires_in"] > 0
    bearer = {"Authorization": f"Bearer {token}"}
    read = await client.get(shared, headers=bearer)
    assert read.status_code == 200 and read.json()["content"] == "# Plan\nShip it."

    # The unlock token opens this link only, and no account route.
    other = await _share(client, team, document, password="another one")
    assert (await client.get(f"/api/v1/shared/{other['token']}", headers=bearer)).status_code == 401
    assert (await client.get("/api/v1/users/me", headers=bearer)).status_code == 401
    assert (await client.get("/api/v1/workspaces", headers=bearer)).status_code == 401
    docs = await client.get(f"/api/v1/documents/{document['id']}", headers=bearer)
    assert docs.status_code == 401

    # Revoking the link makes its unlock token worthless.
    await client.delete(f"/api/v1/shares/{link['id']}", headers=team.editor.headers)
    assert (await client.get(shared, headers=bearer)).status_code == 404


async def test_wrong_passwords_are_throttled(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    link = await _share(client, team, document, password="open sesame")
    unlock = f"/api/v1/shared/{link['token']}/unlock"
    statuses = []
    for attempt in range(12):
        response = await client.post(unlock, json={"password": f"guess {attempt}"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["retry-after"]) > 0
            assert response.json()["code"] == "unlock_throttled"
            break
    assert statuses[0] == 401 and statuses[-1] == 429
    # Even the right password waits now.
    right = await client.post(unlock, json={"password": "open sesame"})
    assert right.status_code == 429


async def test_turning_public_sharing_off_revokes_every_link(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    first = await _share(client, team, document)
    second = await _share(client, team, document, password="open sesame")
    workspace = f"/api/v1/workspaces/{team.workspace_id}"
    editor_try = await client.patch(
        workspace, json={"allow_public_shares": False}, headers=team.editor.headers
    )
    assert editor_try.status_code == 403
    off = await client.patch(
        workspace, json={"allow_public_shares": False}, headers=team.admin.headers
    )
    assert off.status_code == 200 and off.json()["allow_public_shares"] is False
    for link in (first, second):
        assert (await client.get(f"/api/v1/shared/{link['token']}")).status_code == 404
    refused = await client.post(
        f"/api/v1/documents/{document['id']}/shares", json={}, headers=team.editor.headers
    )
    assert refused.status_code == 403 and refused.json()["code"] == "sharing_disabled"

    # Turning it back on brings no old link back.
    on = await client.patch(
        workspace, json={"allow_public_shares": True}, headers=team.admin.headers
    )
    assert on.json()["allow_public_shares"] is True
    assert (await client.get(f"/api/v1/shared/{first['token']}")).status_code == 404
    fresh = await _share(client, team, document)
    assert (await client.get(f"/api/v1/shared/{fresh['token']}")).status_code == 200


@pytest.mark.parametrize(
    "token", ["x", "A" * 22, "A" * 5000, "%00", "../../etc", "cwp_" + "a" * 43]
)
async def test_unknown_or_hostile_tokens_find_nothing(
    client: httpx.AsyncClient, token: str
) -> None:
    response = await client.get(f"/api/v1/shared/{token}")
    assert response.status_code == 404
    unlock = await client.post(f"/api/v1/shared/{token}/unlock", json={"password": "x"})
    assert unlock.status_code == 404


async def test_bad_bodies_are_refused(
    client: httpx.AsyncClient, team: Team, document: dict[str, Any]
) -> None:
    url = f"/api/v1/documents/{document['id']}/shares"
    for body in ({"password": ""}, {"password": "x" * 129}, {"expires_at": "soon"}, {"x": 1}):
        response = await client.post(url, json=body, headers=team.editor.headers)
        assert response.status_code == 422, body
    link = await _share(client, team, document, password="open sesame")
    unlock = f"/api/v1/shared/{link['token']}/unlock"
    assert (await client.post(unlock, json={})).status_code == 422
    assert (await client.post(unlock, json={"password": "p" * 200})).status_code == 422
    plain = await _share(client, team, document)
    no_password = await client.post(
        f"/api/v1/shared/{plain['token']}/unlock", json={"password": "x"}
    )
    assert no_password.status_code == 400
