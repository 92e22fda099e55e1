"""REST content shows live edits at once, and a REST write merges against what its writer read:
what was typed live before the read is not taken as new (doubled), what was typed after it is
not lost, in rich and Markdown documents alike; a restore still brings the old text back."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pycrdt import Doc, Text, XmlElement, XmlFragment, XmlText

from cowrite.collab.protocol import SyncUpdate
from cowrite.collab.room import Room
from cowrite.collab.service import CollabService
from cowrite.config import Settings
from tests.collab.fakes import FakePeer
from tests.conftest import make_settings
from tests.support.databases import TestDatabase
from tests.support.workspaces import Team


@pytest.fixture
def settings(db: TestDatabase, tmp_path: Path) -> Settings:
    # A room's content is saved a minute after an edit: the reads here are of unsaved edits.
    return make_settings(db.url, tmp_path / "data", yjs_content_sync_seconds=60)


class Typist:
    """Someone typing in the open room (as a socket client's updates arrive there)."""

    def __init__(self, room: Room, user_id: uuid.UUID) -> None:
        self.room = room
        self.peer = FakePeer(user_id=user_id)
        self.doc: Doc = Doc()
        self.doc.apply_update(room.doc.get_update())
        self.fragment = self.doc.get("default", type=XmlFragment)

    def edit(self, change: Callable[[XmlFragment], None]) -> None:
        before = self.doc.get_state()
        change(self.fragment)
        self.room.receive(self.peer, SyncUpdate(self.doc.get_update(before)))

    def add_paragraph(self, words: str) -> None:
        def add(fragment: XmlFragment) -> None:
            paragraph = fragment.children.append(XmlElement("paragraph"))
            paragraph.children.append(XmlText(words))

        self.edit(add)

    def type_after(self, anchor: str, words: str) -> None:
        """Type `words` right after `anchor` in a Markdown document's text."""

        def type_(_fragment: XmlFragment) -> None:
            text = self.doc.get("content", type=Text)
            text.insert(str(text).index(anchor) + len(anchor), words)

        self.edit(type_)

    def type_into(self, index: int, words: str) -> None:
        def type_(fragment: XmlFragment) -> None:
            paragraph = fragment.children[index]
            assert isinstance(paragraph, XmlElement)
            text = paragraph.children[0]
            assert isinstance(text, XmlText)
            text.insert(len(str(text)), words)

        self.edit(type_)


async def _open(
    app: FastAPI, client: httpx.AsyncClient, team: Team, format_name: str = "rich"
) -> tuple[str, Typist]:
    created = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={"title": "Plan", "content": "# Plan\n\nOne.\n\nTwo.\n", "format": format_name},
        headers=team.editor.headers,
    )
    assert created.status_code == 201, created.text
    document_id: str = created.json()["id"]
    collab: CollabService = app.state.cowrite.collab
    room = await collab.open_room(uuid.UUID(document_id))
    typist = Typist(room, team.admin.id)
    collab.join(room, typist.peer)
    return document_id, typist


async def _read(client: httpx.AsyncClient, team: Team, document_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/documents/{document_id}", headers=team.viewer.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _write(client: httpx.AsyncClient, team: Team, document_id: str, content: str) -> str:
    response = await client.patch(
        f"/api/v1/documents/{document_id}", json={"content": content}, headers=team.editor.headers
    )
    assert response.status_code == 200, response.text
    answer: str = response.json()["content"]
    return answer


async def test_a_write_from_a_fresh_read_keeps_the_typing_before_and_after_it(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document_id, typist = await _open(app, client, team)
    typist.add_paragraph("Typed live.")
    read = await _read(client, team, document_id)
    assert read["content"] == "# Plan\n\nOne.\n\nTwo.\n\nTyped live."  # not saved yet

    typist.type_into(1, " And more.")  # after the read, in a block the writer leaves alone
    answer = await _write(client, team, document_id, read["content"] + "\n\nFrom REST.\n")
    expected = "# Plan\n\nOne. And more.\n\nTwo.\n\nTyped live.\n\nFrom REST."
    assert answer == expected
    assert (await _read(client, team, document_id))["content"] == expected

    # The writer's next write starts from the answer it was given; typing goes on meanwhile.
    typist.type_into(3, " Still typing.")
    again = await _write(client, team, document_id, answer.replace("Two.", "Two, edited."))
    assert again == (
        "# Plan\n\nOne. And more.\n\nTwo, edited.\n\nTyped live. Still typing.\n\nFrom REST."
    )


async def test_a_write_from_the_saved_content_keeps_what_was_typed_since(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document_id, typist = await _open(app, client, team)
    saved = (await _read(client, team, document_id))["content"]
    assert saved == "# Plan\n\nOne.\n\nTwo."
    typist.add_paragraph("Typed live.")
    typist.type_into(1, " And more.")
    answer = await _write(client, team, document_id, saved.replace("# Plan", "# Plan B"))
    assert answer == "# Plan B\n\nOne. And more.\n\nTwo.\n\nTyped live."


async def test_a_markdown_write_keeps_the_typing_before_and_after_its_read(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    document_id, typist = await _open(app, client, team, "markdown")
    typist.type_after("Two.", "\n\nTyped live.")
    read = await _read(client, team, document_id)
    assert read["content"] == "# Plan\n\nOne.\n\nTwo.\n\nTyped live.\n"

    typist.type_after("One.", " And more.")  # after the read, where the writer changes nothing
    answer = await _write(client, team, document_id, read["content"] + "\nFrom REST.\n")
    expected = "# Plan\n\nOne. And more.\n\nTwo.\n\nTyped live.\n\nFrom REST.\n"
    assert answer == expected
    assert (await _read(client, team, document_id))["content"] == expected


async def test_a_restore_brings_the_old_text_back_whatever_was_read(
    client: httpx.AsyncClient, team: Team
) -> None:
    created = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={"title": "Plan", "content": "# Plan\n\nOne.\n", "format": "rich"},
        headers=team.editor.headers,
    )
    document_id = created.json()["id"]
    assert (await _read(client, team, document_id))["content"] == "# Plan\n\nOne."
    changed = await client.patch(
        f"/api/v1/documents/{document_id}",
        json={"content": "# Plan\n\nOne, changed.\n\nTwo.\n"},
        headers=team.admin.headers,  # another author: a version of its own
    )
    assert changed.status_code == 200, changed.text
    restored = await client.post(
        f"/api/v1/documents/{document_id}/versions/1/restore", headers=team.editor.headers
    )
    assert restored.status_code == 200, restored.text
    assert restored.json()["content"] == "# Plan\n\nOne."
    assert (await _read(client, team, document_id))["content"] == "# Plan\n\nOne."
