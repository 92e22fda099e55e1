"""Rich documents against the official Tiptap stack (Tiptap's schema, y-prosemirror, yjs and
y-websocket, through Node) on a real server."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import httpx
import pytest

from cowrite.richtext.markdown import to_markdown
from tests.richtext.corpus import CORPUS, paragraph, text
from tests.support.collab import INTEROP_DIR, make_document, run_node
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx, make_user
from tests.support.server import ServerProcess

pytestmark = pytest.mark.interop
RICH = "richclient.mjs"


async def _document(http: httpx.AsyncClient, user: UserCtx, document_id: object) -> dict[str, Any]:
    response = await http.get(
        f"/api/v1/documents/{document_id}", params={"as": "json"}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _rich_documents(db: TestDatabase, user: UserCtx, count: int) -> list[str]:
    return [
        str((await make_document(db.url, {user.id: "owner"}, format="rich")).document_id)
        for _ in range(count)
    ]


async def test_the_corpus_goes_both_ways_between_tiptap_and_the_server(
    server: ServerProcess, db: TestDatabase, http: httpx.AsyncClient
) -> None:
    alice = await make_user(http)
    ids = await _rich_documents(db, alice, len(CORPUS))
    docs = [{"doc": doc, "json": json} for doc, json in zip(ids, CORPUS.values(), strict=True)]
    config = {"url": server.ws_url, "token": alice.access_token, "docs": docs}
    result = run_node("write", config, script=RICH)
    for written in result["results"]:
        assert written["arrived"], written
        document = await _document(http, alice, written["doc"])
        assert document["format"] == "rich"
        assert document["content_json"] == written["expected"]
    # Every client has left: the Markdown form was written to the document.
    for written in result["results"]:
        expected = to_markdown(written["expected"])
        for _ in range(100):
            if (await _document(http, alice, written["doc"]))["content"] == expected:
                break
            await asyncio.sleep(0.05)
        assert (await _document(http, alice, written["doc"]))["content"] == expected

    # And the other way: documents the server writes read in Tiptap as sent.
    ids = await _rich_documents(db, alice, len(CORPUS))
    for doc, document in zip(ids, CORPUS.values(), strict=True):
        patched = await http.patch(
            f"/api/v1/documents/{doc}", json={"content_json": document}, headers=alice.headers
        )
        assert patched.status_code == 200, patched.text
        stored = (await _document(http, alice, doc))["content_json"]
        assert patched.json()["content"] == to_markdown(stored)
    expected = run_node("normalize", {"docs": list(CORPUS.values())}, script=RICH)["docs"]
    result = run_node(
        "read", {"url": server.ws_url, "token": alice.access_token, "docs": ids}, script=RICH
    )
    assert [read["json"] for read in result["results"]] == expected


async def test_a_rest_write_merges_while_someone_types_in_another_block(
    server: ServerProcess, db: TestDatabase, http: httpx.AsyncClient
) -> None:
    alice = await make_user(http)
    bob = await make_user(http)
    created = await make_document(db.url, {alice.id: "owner", bob.id: "editor"}, format="rich")
    url = f"/api/v1/documents/{created.document_id}"
    start = {
        "type": "doc",
        "content": [paragraph(text("Typing here")), paragraph(text("Status: draft"))],
    }
    assert (await http.patch(url, json={"content_json": start}, headers=alice.headers)).is_success
    config = {
        "url": server.ws_url,
        "doc": str(created.document_id),
        "token": bob.access_token,
        "chars": 40,
        "interval_ms": 15,
        "wait_for": "Status: final 5",
    }
    node = await asyncio.create_subprocess_exec(
        "node",
        str(INTEROP_DIR / RICH),
        "typing",
        json.dumps(config),
        cwd=INTEROP_DIR,
        stdout=asyncio.subprocess.PIPE,
    )
    assert node.stdout is not None
    try:
        async with asyncio.timeout(60):
            assert json.loads(await node.stdout.readline()) == {"ready": True}
            for n in range(1, 6):  # read, change the status, write: while the client types
                while True:  # a careful writer: retried when the content moved since the read
                    read = await _document(http, alice, created.document_id)
                    assert "Status: " in read["content"]
                    changed = re.sub(r"Status: .*", f"Status: final {n}", read["content"])
                    body = {"content": changed, "base_version": read["version"]}
                    patched = await http.patch(url, json=body, headers=alice.headers)
                    if patched.status_code != 409:
                        break
                assert patched.status_code == 200, patched.text
            result = json.loads((await node.stdout.read()).decode().strip().splitlines()[-1])
    finally:
        if node.returncode is None:
            node.kill()
        await node.wait()
    typed = "".join(str(i % 10) for i in range(40))
    assert result["done"], result
    assert result["same_paragraph"] and result["cursor_in_paragraph"], result
    assert result["cursor_index"] == 3
    assert result["json"]["content"] == [
        paragraph(text("Typing here" + typed)),
        paragraph(text("Status: final 5")),
    ]
    for _ in range(100):
        if (await _document(http, alice, created.document_id))["content_json"] == result["json"]:
            break
        await asyncio.sleep(0.05)
    assert (await _document(http, alice, created.document_id))["content_json"] == result["json"]


async def test_an_update_to_the_other_formats_root_closes_for_good(
    server: ServerProcess, db: TestDatabase, http: httpx.AsyncClient
) -> None:
    alice = await make_user(http)
    for format_name, root in (("markdown", "xml"), ("rich", "text")):
        created = await make_document(
            db.url, {alice.id: "owner"}, format=format_name, content="Kept as it was"
        )
        config = {
            "url": server.ws_url,
            "doc": str(created.document_id),
            "token": alice.access_token,
            "root": root,
        }
        result = run_node("wrongroot", config, script=RICH)
        assert result["code"] == 4422
        assert "root other than the" in result["reason"]
        assert result["should_connect"] is False and result["connects"] == 0
        assert "into a" not in result["witness_text"] + result["witness_fragment"]
        content = (await _document(http, alice, created.document_id))["content"]
        assert "Kept as it was" in content and "into a" not in content  # the marker may be in
