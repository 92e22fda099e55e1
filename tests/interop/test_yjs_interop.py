"""The official Yjs client (yjs + y-websocket, through Node) against a real cowrite server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import pytest

from tests.support.collab import INTEROP_DIR, make_document, run_node, stored_text
from tests.support.databases import TestDatabase
from tests.support.factories import make_user
from tests.support.server import ServerProcess

pytestmark = pytest.mark.interop


async def _eventually(read: Callable[[], Awaitable[str]], expected: str, tries: int = 100) -> bool:
    """Poll a value the server writes in the background until it equals `expected`."""
    for _ in range(tries):
        if await read() == expected:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_two_clients_join_a_new_document_at_the_same_moment(
    server: ServerProcess, db: TestDatabase, http
) -> None:
    alice = await make_user(http)
    bob = await make_user(http)
    doc = await make_document(db.url, {alice.id: "owner", bob.id: "editor"})
    result = run_node(
        "join",
        {
            "url": server.ws_url,
            "doc": str(doc.document_id),
            "tokens": [alice.access_token, bob.access_token],
        },
    )
    assert result["converged"], result
    assert result["texts"][0] == result["texts"][1]


async def test_ten_clients_editing_at_random_converge_and_match_the_stored_content(
    server: ServerProcess, db: TestDatabase, http
) -> None:
    users = [await make_user(http) for _ in range(10)]
    doc = await make_document(db.url, {user.id: "editor" for user in users}, content="seeded text;")
    result = run_node(
        "random",
        {
            "url": server.ws_url,
            "doc": str(doc.document_id),
            "tokens": [user.access_token for user in users],
            "edits": 25,
            "seed": 7,
        },
        timeout=120,
    )
    assert result["converged"], result
    final = result["texts"][0]
    assert all(text == final for text in result["texts"])
    assert "c0e" in final and "c9e" in final

    # Every client has left: the server wrote the live text to the document at once.
    async def rest_content() -> str:
        response = await http.get(f"/api/v1/documents/{doc.document_id}", headers=users[0].headers)
        assert response.status_code == 200, response.text
        content: str = response.json()["content"]
        return content

    assert await _eventually(rest_content, final)
    assert await stored_text(db.url, doc.document_id) == final


async def test_offline_edits_merge_on_reconnect(
    server: ServerProcess, db: TestDatabase, http
) -> None:
    alice = await make_user(http)
    bob = await make_user(http)
    doc = await make_document(db.url, {alice.id: "owner", bob.id: "editor"})
    result = run_node(
        "offline",
        {
            "url": server.ws_url,
            "doc": str(doc.document_id),
            "tokens": [alice.access_token, bob.access_token],
        },
    )
    assert "offline-A;" not in result["whileOffline"]
    assert result["converged"], result
    assert result["texts"][0] == result["texts"][1]
    for piece in ("shared;", "offline-A;", "online-B;"):
        assert result["texts"][0].count(piece) == 1


async def test_a_viewers_edits_never_reach_anyone(
    server: ServerProcess, db: TestDatabase, http
) -> None:
    editor = await make_user(http)
    viewer = await make_user(http)
    doc = await make_document(db.url, {editor.id: "owner", viewer.id: "viewer"})
    result = run_node(
        "viewer",
        {
            "url": server.ws_url,
            "doc": str(doc.document_id),
            "editor": editor.access_token,
            "viewer": viewer.access_token,
        },
    )
    assert "viewer-text" in result["viewer"]  # it exists only in the viewer's own copy
    assert "viewer-text" not in result["editor"]
    assert "viewer-text" not in result["late"]
    assert "editor-after;" in result["late"]
    assert "viewer-text" not in await stored_text(db.url, doc.document_id)


@pytest.mark.serial  # a second worker on the same cores stretches the 100 ms it allows
async def test_every_edit_older_than_100ms_survives_a_sigkill(
    server: ServerProcess, db: TestDatabase, http
) -> None:
    writer = await make_user(http)
    doc = await make_document(db.url, {writer.id: "owner"})
    config = {
        "url": server.ws_url,
        "doc": str(doc.document_id),
        "token": writer.access_token,
        "duration_ms": 20000,
        "interval_ms": 10,
    }
    node = await asyncio.create_subprocess_exec(
        "node",
        str(INTEROP_DIR / "yclient.mjs"),
        "typing",
        json.dumps(config),
        cwd=INTEROP_DIR,
        stdout=asyncio.subprocess.PIPE,
    )
    assert node.stdout is not None
    edits: dict[int, float] = {}
    try:
        killed_at: float | None = None
        async with asyncio.timeout(30):
            while True:
                line = json.loads(await node.stdout.readline())
                if "edit" in line:
                    edits[line["edit"]] = line["at"]
                if len(edits) == 150 and killed_at is None:
                    server.kill()
                    killed_at = time.time() * 1000
                    # Stop the client too, so it cannot re-send anything after the restart.
                    node.kill()
                    break
    finally:
        if node.returncode is None:
            node.kill()
        await node.wait()
    assert killed_at is not None
    server.start()
    text = await stored_text(db.url, doc.document_id)
    old_enough = [edit for edit, at in edits.items() if at < killed_at - 100]
    assert len(old_enough) > 100
    missing = [edit for edit in old_enough if f"[{edit}]" not in text]
    assert missing == [], [(edit, killed_at - edits[edit]) for edit in missing]
    reread = run_node(
        "read", {"url": server.ws_url, "doc": str(doc.document_id), "token": writer.access_token}
    )
    assert reread["text"] == text
