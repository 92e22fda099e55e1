"""Comments on rich documents: anchors live in the fragment's text nodes. Offsets are in the
document's plain text (text nodes in order, one newline between them)."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import httpx
import pytest

from tests.comments.conftest import post_comment, threads
from tests.support.collab import INTEROP_DIR
from tests.support.databases import REQUIRE_SERVICES
from tests.support.factories import make_user
from tests.support.server import ServerProcess
from tests.support.workspaces import Team, make_workspace

MARKDOWN = "# Trip\n\nThe quick **brown** fox jumps.\n\n- tent\n- stove\n"
PLAIN = "Trip\nThe quick brown fox jumps.\ntent\nstove"


async def rich_document(client: httpx.AsyncClient, user: Any, workspace_id: str) -> str:
    response = await client.post(
        f"/api/v1/workspaces/{workspace_id}/documents",
        json={"title": "Trip", "content": MARKDOWN, "format": "rich"},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    document_id: str = response.json()["id"]
    return document_id


def _where(anchor: dict[str, Any]) -> tuple[Any, Any, str, bool]:
    return anchor["from"], anchor["to"], anchor["quote"], anchor["orphaned"]


async def test_anchors_in_the_text_follow_rest_writes_and_orphan_when_it_goes(
    client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await rich_document(client, team.editor, team.workspace_id)
    start = PLAIN.index("brown fox")
    made = await post_comment(
        client, team.commenter, document_id, "Which fox?", anchor={"from": start, "to": start + 9}
    )
    assert _where(made["anchor"]) == (start, start + 9, "brown fox", False)
    # Across text nodes: the end of the heading to the first list item.
    across = await post_comment(
        client,
        team.commenter,
        document_id,
        "All of it",
        anchor={"from": 2, "to": PLAIN.index("nt\n") + 2},
    )
    assert across["anchor"]["quote"] == "ip\nThe quick brown fox jumps.\ntent"

    # A paragraph written before it (over REST, Markdown): the anchor moves with its text.
    url = f"/api/v1/documents/{document_id}"
    moved = MARKDOWN.replace("# Trip\n\n", "# Trip\n\nPacking list first.\n\n")
    response = await client.patch(url, json={"content": moved}, headers=team.editor.headers)
    assert response.status_code == 200, response.text
    plain = PLAIN.replace("Trip\n", "Trip\nPacking list first.\n")
    fox, whole = await threads(client, team.viewer, document_id)
    at = plain.index("brown fox")
    assert _where(fox["anchor"]) == (at, at + 9, "brown fox", False)
    tent = plain.index("tent") + 4
    assert (whole["anchor"]["from"], whole["anchor"]["to"]) == (2, tent)

    # The paragraph goes: its thread is orphaned, the other keeps its ends.
    gone = moved.replace("The quick **brown** fox jumps.\n\n", "")
    response = await client.patch(url, json={"content": gone}, headers=team.editor.headers)
    assert response.status_code == 200, response.text
    fox, whole = await threads(client, team.viewer, document_id)
    assert fox["anchor"]["orphaned"] and (fox["anchor"]["from"], fox["anchor"]["to"]) == (
        None,
        None,
    )
    assert fox["anchor"]["quote"] == "brown fox"
    assert not whole["anchor"]["orphaned"]


async def test_bad_anchors_on_a_rich_document_are_422(
    client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await rich_document(client, team.editor, team.workspace_id)
    for anchor in (
        {"from": 0, "to": len(PLAIN) + 1},
        {"from": 5, "to": 5},
        {"yjs_from": "AAAA", "yjs_to": "AAAA"},
        # A position on the Markdown root, which a rich document does not have.
        {"yjs_from": "AQdjb250ZW50AA==", "yjs_to": "AQdjb250ZW50AA=="},
    ):
        response = await client.post(
            f"/api/v1/documents/{document_id}/comments",
            json={"body": "x", "anchor": anchor},
            headers=team.commenter.headers,
        )
        assert response.status_code == 422, (anchor, response.text)
        assert response.json()["code"] in ("invalid_anchor", "validation_error")


def richanchors(config: dict[str, Any]) -> dict[str, Any]:
    if not (INTEROP_DIR / "node_modules" / "y-websocket").is_dir():
        message = "the Yjs client is not installed: run `npm ci` in tests/interop (make setup)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    completed = subprocess.run(
        ["node", str(INTEROP_DIR / "richanchors.mjs"), json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=INTEROP_DIR,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    assert result["confirmed"], result
    return result


@pytest.mark.interop
async def test_anchors_a_yjs_client_makes_in_the_fragment_and_reads_back(
    server: ServerProcess,
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        owner = await make_user(http)
        workspace = await make_workspace(http, owner)
        document_id = await rich_document(http, owner, workspace["id"])
        target = {"url": server.ws_url, "doc": document_id, "token": owner.access_token}
        url = f"/api/v1/documents/{document_id}/comments"

        # The client's relative positions on the text node become an anchor.
        made = richanchors({**target, "quote": "quick brown"})
        anchor = {"yjs_from": made["yjs_from"], "yjs_to": made["yjs_to"]}
        first = await http.post(
            url, json={"body": "Quick?", "anchor": anchor}, headers=owner.headers
        )
        assert first.status_code == 201, first.text
        start = PLAIN.index("quick brown")
        assert _where(first.json()["anchor"]) == (start, start + 11, "quick brown", False)
        # The server's own positions (from offsets), on the list's second item.
        stove = PLAIN.index("stove")
        second = await http.post(
            url,
            json={"body": "Gas?", "anchor": {"from": stove, "to": stove + 5}},
            headers=owner.headers,
        )
        assert second.status_code == 201, second.text
        placed = second.json()["anchor"]

        # The client types inside the anchored paragraph (emoji: two UTF-16 units, one code
        # point), adds a paragraph on top, and reads the server's positions in its document.
        edits = [
            {"before": "The quick", "insert": "🎉 "},
            {"before": "stove", "insert": "camping "},
            {"paragraph": "Read me first"},
        ]
        result = richanchors(
            {**target, "edits": edits, "positions": [placed["yjs_from"], placed["yjs_to"]]}
        )
        assert result["resolved"] == "stove" and result["same_node"]
        plain = "\n".join(result["texts"])
        assert plain == "Read me first\nTrip\n🎉 The quick brown fox jumps.\ntent\ncamping stove"
        now = [_where(thread["anchor"]) for thread in await threads_of(http, owner, document_id)]
        quick, gas = plain.index("quick brown"), plain.index("stove")
        assert now == [
            (quick, quick + 11, "quick brown", False),
            (gas, gas + 5, "stove", False),
        ]


async def threads_of(http: httpx.AsyncClient, user: Any, document_id: str) -> list[Any]:
    response = await http.get(f"/api/v1/documents/{document_id}/comments", headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items
