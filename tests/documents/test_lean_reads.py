"""The lean document read answers exactly what the full route answers, byte for byte, and only
what it can prove; everything else reaches the full route. Each case reads through an app with
the lean path and through one without it, over the same database, and compares the answers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import pytest
from fastapi import FastAPI
from pycrdt import Doc, Text
from pydantic import TypeAdapter

from cowrite.collab.protocol import SyncUpdate
from cowrite.collab.room import Room
from cowrite.collab.service import CollabService
from cowrite.config import Settings
from cowrite.documents.lean import JSON_OPTIONS, TEMPLATE
from tests.collab.fakes import FakePeer
from tests.conftest import make_settings
from tests.support.apps import served
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx
from tests.support.workspaces import Team

DOCS = "/api/v1/workspaces/{}/documents"
# Escapes, non-ASCII, a line separator, markup: the serializers must agree on every one.
ODD_TEXT = 'Tab\there, "quotes", back\\slash, \x01\x1f\x7f, é ✓ 😀, \u2028 </script>'


@pytest.fixture
def settings(db: TestDatabase, tmp_path: Path) -> Settings:
    # A room's content is saved a minute after an edit: some reads here are of unsaved edits.
    return make_settings(db.url, tmp_path / "data", yjs_content_sync_seconds=60)


@pytest.fixture
async def full(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The same database served without the lean path."""
    async with served(settings, lean_document_reads=False) as both:
        yield both


def lean_count(app: FastAPI) -> float:
    registry = app.state.cowrite.metrics.registry
    value = registry.get_sample_value("cowrite_http_lean_requests_total", {"route": TEMPLATE})
    return value or 0.0


async def compare(
    app: FastAPI,
    client: httpx.AsyncClient,
    full: tuple[FastAPI, httpx.AsyncClient],
    url: str,
    who: UserCtx | dict[str, str],
    *,
    lean: bool,
) -> httpx.Response:
    """GET `url` on both apps: the same status, headers and bytes; and whether the lean path
    answered (the caller's login is made known live first, as any earlier request does)."""
    headers = who.headers if isinstance(who, UserCtx) else who
    await client.get("/api/v1/users/me", headers=headers)
    before = lean_count(app)
    ours = await client.get(url, headers=headers)
    theirs = await full[1].get(url, headers=headers)
    assert ours.status_code == theirs.status_code, (ours.text, theirs.text)
    assert ours.content == theirs.content
    assert ours.headers.multi_items() == theirs.headers.multi_items()
    assert lean_count(app) == before + (1 if lean else 0)
    assert lean_count(full[0]) == 0
    return ours


async def create(
    client: httpx.AsyncClient, team: Team, title: str, **body: object
) -> dict[str, object]:
    answer = await client.post(
        DOCS.format(team.workspace_id),
        json={"title": title, "content": f"# {title}\n\n{ODD_TEXT}\n", **body},
        headers=team.editor.headers,
    )
    assert answer.status_code == 201, answer.text
    document: dict[str, object] = answer.json()
    return document


async def restrict(client: httpx.AsyncClient, team: Team, document_id: object) -> None:
    answer = await client.patch(
        f"/api/v1/documents/{document_id}",
        json={"visibility": "restricted"},
        headers=team.owner.headers,
    )
    assert answer.status_code == 200, answer.text


async def test_members_read_the_same_answer_on_the_lean_path(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    document = await create(client, team, "Plan", tags=["zeta", "Alpha", "mid dle", "ä"])
    url = f"/api/v1/documents/{document['id']}"
    for who, role in ((team.editor, "editor"), (team.viewer, "viewer"), (team.owner, "owner")):
        answer = await compare(app, client, full, url, who, lean=True)
        body = answer.json()
        assert body["role"] == role and body["tags"] == ["alpha", "mid dle", "zeta", "ä"]
        assert body["content"] == f"# Plan\n\n{ODD_TEXT}\n"
    # `as=markdown` is the default spelled out; an upper-case id is the same document.
    await compare(app, client, full, f"{url}?as=markdown", team.viewer, lean=True)
    await compare(
        app,
        client,
        full,
        url.upper().replace("/API/V1/DOCUMENTS", "/api/v1/documents"),
        team.viewer,
        lean=True,
    )


async def test_restricted_documents_follow_the_one_rule(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    document = await create(client, team, "Secret")
    await restrict(client, team, document["id"])
    listed = await client.post(
        f"/api/v1/documents/{document['id']}/members",
        json={"email": team.outsider.email, "role": "commenter"},
        headers=team.owner.headers,
    )
    assert listed.status_code == 201, listed.text
    url = f"/api/v1/documents/{document['id']}"

    guest = await compare(app, client, full, url, team.outsider, lean=True)
    assert guest.json()["role"] == "commenter"
    admin = await compare(app, client, full, url, team.admin, lean=True)
    assert admin.json()["role"] == "admin"
    # An unlisted member may not see it: the full route answers the 404.
    hidden = await compare(app, client, full, url, team.viewer, lean=False)
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"


async def test_what_the_lean_path_cannot_prove_goes_to_the_full_route(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    document = await create(client, team, "Plan")
    url = f"/api/v1/documents/{document['id']}"
    missing = await compare(
        app, client, full, f"/api/v1/documents/{uuid.uuid4()}", team.editor, lean=False
    )
    assert missing.status_code == 404
    for query in ("?as=html", "?as=json", "?as=pdf"):
        await compare(app, client, full, url + query, team.viewer, lean=False)
    outsider = await compare(app, client, full, url, team.outsider, lean=False)
    assert outsider.status_code == 404
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}):
        refused = await compare(app, client, full, url, headers, lean=False)
        assert refused.status_code == 401
    for bad in ("not-a-document-id", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"):
        bad_id = await compare(
            app, client, full, f"/api/v1/documents/{bad}", team.viewer, lean=False
        )
        assert bad_id.status_code == 422

    trashed = await client.delete(url, headers=team.editor.headers)
    assert trashed.status_code == 204, trashed.text
    gone = await compare(app, client, full, url, team.editor, lean=False)
    assert gone.status_code == 404


async def test_a_rich_document_reads_the_same(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    document = await create(client, team, "Rich", format="rich", tags=["notes"])
    url = f"/api/v1/documents/{document['id']}"
    answer = await compare(app, client, full, url, team.viewer, lean=True)
    assert answer.json()["format"] == "rich"


async def test_an_api_token_reads_the_same_until_it_is_revoked(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    document = await create(client, team, "Plan")
    url = f"/api/v1/documents/{document['id']}"
    made = await client.post(
        "/api/v1/users/me/tokens",
        json={"name": "script", "scopes": ["read"]},
        headers=team.viewer.headers,
    )
    assert made.status_code == 201, made.text
    secret = made.json()["token"]
    token = {"Authorization": f"Bearer {secret}"}
    answer = await compare(app, client, full, url, token, lean=True)
    assert answer.status_code == 200 and answer.json()["role"] == "viewer"
    listed = await client.get("/api/v1/users/me/tokens", headers=team.viewer.headers)
    assert listed.json()[0]["last_used_at"] is not None  # the lean read counts as a use

    # A forged secret with a real token's prefix and length, and the token once revoked.
    forged = {"Authorization": f"Bearer {secret[:-4]}AAAA"}
    assert (await compare(app, client, full, url, forged, lean=False)).status_code == 401
    revoked = await client.delete(
        f"/api/v1/users/me/tokens/{made.json()['id']}", headers=team.viewer.headers
    )
    assert revoked.status_code == 204, revoked.text
    assert (await compare(app, client, full, url, token, lean=False)).status_code == 401


class Typist:
    """Someone typing into an open room of a Markdown document."""

    def __init__(self, room: Room, user_id: uuid.UUID) -> None:
        self.room = room
        self.peer = FakePeer(user_id=user_id)
        self.doc = Doc()
        self.doc.apply_update(room.doc.get_update())

    def type_at_end(self, words: str) -> None:
        before = self.doc.get_state()
        text = self.doc.get("content", type=Text)
        text.insert(len(str(text)), words)
        self.room.receive(self.peer, SyncUpdate(self.doc.get_update(before)))


async def typing_in(app: FastAPI, team: Team, document_id: object) -> tuple[Typist, CollabService]:
    collab: CollabService = app.state.cowrite.collab
    room = await collab.open_room(uuid.UUID(str(document_id)))
    typist = Typist(room, team.editor.id)
    collab.join(room, typist.peer)
    return typist, collab


async def test_unsaved_edits_read_the_same_from_the_room_or_the_log(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    # Plain text: the typist counts positions as Python does.
    document = await create(client, team, "Live", content="# Live\n\nPlain.\n")
    url = f"/api/v1/documents/{document['id']}"

    # Typed in the other app's room: here the body comes from the update log (full route).
    typist, elsewhere = await typing_in(full[0], team, document["id"])
    typist.type_at_end("Typed over there.")
    await elsewhere.log.flush()
    behind = await compare(app, client, full, url, team.viewer, lean=False)
    assert behind.json()["content"].endswith("Typed over there.")

    # Typed in this app's room: the lean path answers from the room.
    other = await create(client, team, "Here", content="# Here\n\nPlain.\n")
    typist, here = await typing_in(app, team, other["id"])
    typist.type_at_end("Typed right here.")
    await here.log.flush()
    live = await compare(
        app, client, full, f"/api/v1/documents/{other['id']}", team.viewer, lean=True
    )
    assert live.json()["content"].endswith("Typed right here.")


async def test_a_logout_ends_lean_reads_at_once(
    app: FastAPI, client: httpx.AsyncClient, full: tuple[FastAPI, httpx.AsyncClient], team: Team
) -> None:
    document = await create(client, team, "Plan")
    url = f"/api/v1/documents/{document['id']}"
    await compare(app, client, full, url, team.viewer, lean=True)
    out = await client.post(
        "/api/v1/auth/logout",
        json={"refresh_token": team.viewer.refresh_token},
        headers=team.viewer.headers,
    )
    assert out.status_code == 204, out.text
    before = lean_count(app)
    ended = await client.get(url, headers=team.viewer.headers)
    assert ended.status_code == 401 and ended.json()["code"] == "invalid_token"
    assert lean_count(app) == before


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 7, 8, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 7, 8, 0, 0, 500, tzinfo=UTC),
        datetime(2026, 12, 7, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(1999, 1, 2, 3, 4, 5, 60000, tzinfo=UTC),
    ],
)
def test_times_are_written_as_the_full_route_writes_them(moment: datetime) -> None:
    assert orjson.dumps(moment, option=JSON_OPTIONS) == TypeAdapter(datetime).dump_json(moment)


def test_text_is_escaped_as_the_full_route_escapes_it() -> None:
    every = "".join(chr(code) for code in range(0, 0x800)) + ODD_TEXT
    assert orjson.dumps(every) == TypeAdapter(str).dump_json(every)
