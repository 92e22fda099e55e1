"""The lean document create answers what the full route answers and writes what it writes, and
takes only what it can prove; everything else reaches the full route with its body intact. Each
case creates through an app with the lean path and through one without it, over the same
database, and compares the answers (ids and times aside) and what each create left behind."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from cowrite.config import Settings
from cowrite.db import unit_of_work
from cowrite.documents.lean_create import MAX_BODY_BYTES, TEMPLATE
from cowrite.models import DocumentSubscription, DocumentVersion, WebhookDelivery
from cowrite.state import AppState
from cowrite.webhooks.events import enqueue_event, note_no_webhooks
from cowrite.workspaces.access import role_and_webhooks
from cowrite.workspaces.roles import Role
from tests.conftest import make_settings
from tests.support.apps import served
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx
from tests.support.workspaces import Team

DOCS = "/api/v1/workspaces/{}/documents"
ODD_TEXT = 'Tab\there, "quotes", back\\slash, \x01\x1f\x7f, é ✓ 😀, \u2028 </script>'
LIMIT = 4096
# The values that differ between two creates of the same body.
_VARYING = re.compile(rb'"(id|created_at|updated_at)":"[^"]*"')


@pytest.fixture
def settings(db: TestDatabase, tmp_path: Path) -> Settings:
    return make_settings(
        db.url, tmp_path / "data", max_document_bytes=LIMIT, webhooks_allow_private=True
    )


@pytest.fixture
async def full(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The same database served without the lean path."""
    async with served(settings, lean_document_creates=False) as both:
        yield both


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.cowrite
    return state


@pytest.fixture(autouse=True)
def logins_stay_known(app: FastAPI) -> None:
    """Logins stay known live for the whole test. With the usual few seconds, a slow run reaches
    the moment one request is sent to read its login again (by the full route), and a case
    meant for the lean path would be answered by the full one."""
    state_of(app).logins.ttl = 600.0


def lean_count(app: FastAPI) -> float:
    registry = state_of(app).metrics.registry
    value = registry.get_sample_value("cowrite_http_lean_requests_total", {"route": TEMPLATE})
    return value or 0.0


def logged(app: FastAPI, status: int) -> float:
    registry = state_of(app).metrics.registry
    labels = {"method": "POST", "route": TEMPLATE, "status": str(status)}
    return registry.get_sample_value("cowrite_http_requests_total", labels) or 0.0


async def compare(
    app: FastAPI,
    client: httpx.AsyncClient,
    full: tuple[FastAPI, httpx.AsyncClient],
    who: UserCtx | dict[str, str],
    *,
    lean: bool,
    workspace_id: str,
    url: str | None = None,
    **request: Any,
) -> tuple[httpx.Response, httpx.Response]:
    """POST on both apps: the same status, headers and bytes (a new document's id and times
    aside), the same metrics; and whether the lean path answered. The caller's login is made
    known live first, as any earlier request does."""
    headers = who.headers if isinstance(who, UserCtx) else who
    headers = {**headers, **request.pop("headers", {})}
    await client.get("/api/v1/users/me", headers=headers)
    before = lean_count(app)
    target = url or DOCS.format(workspace_id)
    ours = await client.post(target, headers=headers, **request)
    logged_before = logged(full[0], ours.status_code)
    theirs = await full[1].post(target, headers=headers, **request)
    assert ours.status_code == theirs.status_code, (ours.text, theirs.text)
    assert _VARYING.sub(b"", ours.content) == _VARYING.sub(b"", theirs.content)
    mine = dict(ours.headers.multi_items())
    other = dict(theirs.headers.multi_items())
    if ours.status_code == 201:  # a time may be written a digit shorter
        mine.pop("content-length")
        other.pop("content-length")
    assert list(ours.headers.keys()) == list(theirs.headers.keys())
    assert mine == other
    assert lean_count(app) == before + (1 if lean else 0)
    assert lean_count(full[0]) == 0
    if url is None:
        assert logged(full[0], ours.status_code) == logged_before + 1
    return ours, theirs


async def left_behind(app: FastAPI, document_id: str) -> dict[str, Any]:
    """What a create wrote besides the document: its versions, who follows it, its webhook
    deliveries (with the ids and times that differ between two creates cut out)."""
    key = uuid.UUID(document_id)
    async with unit_of_work(state_of(app).session_factory) as session:
        versions = (
            await session.execute(
                select(DocumentVersion.number, DocumentVersion.title, DocumentVersion.source)
                .where(DocumentVersion.document_id == key)
                .order_by(DocumentVersion.number)
            )
        ).all()
        followers = (
            await session.execute(
                select(DocumentSubscription.user_id, DocumentSubscription.following).where(
                    DocumentSubscription.document_id == key
                )
            )
        ).all()
        deliveries = (
            await session.execute(
                select(WebhookDelivery.event, WebhookDelivery.body).where(
                    WebhookDelivery.body.contains(document_id)
                )
            )
        ).all()
    return {
        "versions": [tuple(row) for row in versions],
        "followers": [tuple(row) for row in followers],
        "deliveries": [
            (event, re.sub(r'"(id|created_at|document_id)":"[^"]*"', "", body))
            for event, body in deliveries
        ],
    }


async def test_a_create_answers_and_writes_what_the_full_route_does(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    hook = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["document.created"]},
        headers=team.admin.headers,
    )
    assert hook.status_code == 201, hook.text
    bodies: list[dict[str, Any]] = [
        {"title": "  Plan ", "content": f"# Plan\n\n{ODD_TEXT}\n"},
        {"title": "Tagged", "content": "x", "tags": ["zeta", "Alpha", "mid  dle", "alpha", "ä"]},
        {"title": "One tag", "tags": ["Solo"]},
        {"title": "Rich", "content": "# Rich\n\n**bold**\n", "format": "rich"},
        {"title": "Rich tree", "format": "rich", "content_json": {"type": "doc", "content": []}},
    ]
    for body in bodies:
        for who in (team.editor, team.owner):
            ours, theirs = await compare(
                app, client, full, who, lean=True, workspace_id=team.workspace_id, json=body
            )
            assert ours.status_code == 201, ours.text
            mine, other = ours.json(), theirs.json()
            assert mine["created_by"] == str(who.id)
            for answer in (mine, other):
                read = await client.get(
                    f"/api/v1/documents/{answer['id']}", headers=team.viewer.headers
                )
                assert read.status_code == 200, read.text
                assert {k: v for k, v in read.json().items() if k != "role"} == answer
            assert await left_behind(app, mine["id"]) == await left_behind(app, other["id"])
            assert (await left_behind(app, mine["id"]))["deliveries"], "no webhook delivery"
    # Both are found by search, as the index is written by the same insert.
    found = await client.get(
        "/api/v1/search",
        params={"q": "quotes", "workspace_id": team.workspace_id},
        headers=team.viewer.headers,
    )
    assert found.status_code == 200, found.text
    assert len(found.json()["items"]) == 4


async def _webhook(client: httpx.AsyncClient, team: Team) -> str:
    hook = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["document.created"]},
        headers=team.admin.headers,
    )
    assert hook.status_code == 201, hook.text
    return str(hook.json()["id"])


async def _turn(client: httpx.AsyncClient, team: Team, hook: str, *, active: bool) -> None:
    turned = await client.patch(
        f"/api/v1/webhooks/{hook}", json={"active": active}, headers=team.admin.headers
    )
    assert turned.status_code == 200, turned.text


async def test_one_statement_reads_the_role_and_whether_an_active_webhook_waits(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    workspace_id = uuid.UUID(team.workspace_id)

    async def read(who: UserCtx) -> tuple[Role | None, bool]:
        async with unit_of_work(state_of(app).session_factory) as session:
            return await role_and_webhooks(session, who.id, workspace_id)

    assert await read(team.editor) == (Role.EDITOR, False)
    assert await read(team.outsider) == (None, False)
    hook = await _webhook(client, team)
    assert await read(team.editor) == (Role.EDITOR, True)
    assert await read(team.viewer) == (Role.VIEWER, True)
    assert await read(team.outsider) == (None, False)
    await _turn(client, team, hook, active=False)
    assert await read(team.owner) == (Role.OWNER, False)


async def test_a_turned_off_webhook_gets_no_delivery_and_gets_the_next_once_on_again(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    hook = await _webhook(client, team)
    await _turn(client, team, hook, active=False)
    body = {"title": "Quiet", "content": "x"}
    ours, theirs = await compare(
        app, client, full, team.editor, lean=True, workspace_id=team.workspace_id, json=body
    )
    for answer in (ours, theirs):
        assert (await left_behind(app, answer.json()["id"]))["deliveries"] == []
    await _turn(client, team, hook, active=True)
    ours, theirs = await compare(
        app, client, full, team.editor, lean=True, workspace_id=team.workspace_id, json=body
    )
    mine = await left_behind(app, ours.json()["id"])
    assert mine["deliveries"], "no webhook delivery"
    assert mine == await left_behind(app, theirs.json()["id"])


async def test_no_webhooks_noted_in_one_transaction_is_not_taken_in_the_next(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    workspace_id = uuid.UUID(team.workspace_id)
    async with unit_of_work(state_of(app).session_factory) as session:
        await session.connection()
        note_no_webhooks(session, workspace_id)
        assert await enqueue_event(session, workspace_id, "document.created", {}) == 0
        await session.commit()
        await _webhook(client, team)
        await session.connection()  # the session's next transaction
        assert await enqueue_event(session, workspace_id, "document.created", {}) == 1
        await session.rollback()


async def test_refusals_are_answered_in_the_full_routes_words(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    body = {"title": "Plan", "content": "x"}
    workspace = team.workspace_id
    cases: list[tuple[UserCtx, str, dict[str, Any], int]] = [
        (team.outsider, workspace, body, 404),  # not a member
        (team.viewer, workspace, body, 403),
        (team.commenter, workspace, body, 403),
        (team.editor, str(uuid.uuid4()), body, 404),  # no such workspace
        (team.editor, workspace, {"title": "Big", "content": "é" * LIMIT}, 413),
        (team.editor, workspace, {"title": "Both", "content": "x", "content_json": {}}, 422),
        (team.editor, workspace, {"title": "Tree", "content_json": {"type": "doc"}}, 422),
    ]
    for who, workspace_id, payload, status in cases:
        ours, _ = await compare(
            app, client, full, who, lean=True, workspace_id=workspace_id, json=payload
        )
        assert ours.status_code == status, ours.text
    too_large = await compare(
        app,
        client,
        full,
        team.editor,
        lean=True,
        workspace_id=workspace,
        json={"title": "Big", "content": "é" * LIMIT},
    )
    assert too_large[0].json()["code"] == "document_too_large"


async def test_what_the_lean_path_cannot_prove_goes_to_the_full_route(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    workspace = team.workspace_id

    async def goes_on(who: UserCtx | dict[str, str], **request: Any) -> int:
        """The status both apps answered, the lean path not taken."""
        ours, _ = await compare(
            app, client, full, who, lean=False, workspace_id=workspace, **request
        )
        return ours.status_code

    invalid: list[dict[str, Any]] = [
        {"content": "no title"},
        {"title": "   "},
        {"title": "Extra", "owner": "me"},
        {"title": 5},
        {"title": "Nul\x00"},
        {"title": "Tags", "tags": "one"},
        {"title": "Tags", "tags": [""]},
        {"title": "Format", "format": "pdf"},
    ]
    for payload in invalid:
        assert await goes_on(team.editor, json=payload) == 422
    for raw, kind in (
        (b"", "application/json"),
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"title": "\\ud800"}', "application/json"),
        (b"[" * 100_000, "application/json"),
        (b'{"title": "Plain"}', "text/plain"),
    ):
        status = await goes_on(team.editor, content=raw, headers={"Content-Type": kind})
        assert status in (400, 422)
    # A body longer than the path reads reaches the route whole (and is refused there: 413).
    long = {"title": "Long", "content": "a" * (MAX_BODY_BYTES + 1)}
    assert await goes_on(team.editor, json=long) == 413
    # A query string, a workspace id in another spelling: created by the full route.
    for url in (DOCS.format(workspace) + "?x=1", DOCS.format(uuid.UUID(workspace).hex)):
        assert await goes_on(team.editor, url=url, json={"title": "Q"}) == 201
    # No token, a token not known, another scheme.
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        assert await goes_on(headers, json={"title": "x"}) == 401


async def test_api_tokens_go_to_the_full_route(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    for scopes, status in ((["read", "write"], 201), (["read"], 403)):
        made = await client.post(
            "/api/v1/users/me/tokens",
            json={"name": "script", "scopes": scopes},
            headers=team.editor.headers,
        )
        assert made.status_code == 201, made.text
        token = {"Authorization": f"Bearer {made.json()['token']}"}
        ours, _ = await compare(
            app,
            client,
            full,
            token,
            lean=False,
            workspace_id=team.workspace_id,
            json={"title": "T"},
        )
        assert ours.status_code == status, ours.text


async def test_a_logout_ends_lean_creates_at_once(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    await compare(
        app,
        client,
        full,
        team.editor,
        lean=True,
        workspace_id=team.workspace_id,
        json={"title": "A"},
    )
    out = await client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": team.editor.refresh_token},
        headers=team.editor.headers,
    )
    assert out.status_code == 204, out.text
    before = lean_count(app)
    ended = await client.post(
        DOCS.format(team.workspace_id), json={"title": "B"}, headers=team.editor.headers
    )
    assert ended.status_code == 401 and ended.json()["code"] == "invalid_token"
    assert lean_count(app) == before
