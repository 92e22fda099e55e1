"""Anchors against a real server: a real Yjs client's edits, and a restart."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.collab import INTEROP_DIR
from tests.support.databases import REQUIRE_SERVICES
from tests.support.factories import make_user
from tests.support.server import ServerProcess
from tests.support.workspaces import make_workspace


def yjs_client(config: dict[str, Any]) -> dict[str, Any]:
    if not (INTEROP_DIR / "node_modules" / "y-websocket").is_dir():
        message = "the Yjs client is not installed: run `npm ci` in tests/interop (make setup)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    completed = subprocess.run(
        ["node", str(INTEROP_DIR / "anchors.mjs"), json.dumps(config)],
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


async def anchors(client: httpx.AsyncClient, headers: dict[str, str], document_id: str) -> list:
    response = await client.get(f"/api/v1/documents/{document_id}/comments", headers=headers)
    assert response.status_code == 200, response.text
    return [thread["anchor"] for thread in response.json()["items"]]


@pytest.mark.interop
async def test_anchors_follow_a_yjs_client_and_survive_a_restart(
    server: ServerProcess, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        owner = await make_user(http)
        workspace = await make_workspace(http, owner)
        created = await http.post(
            f"/api/v1/workspaces/{workspace['id']}/documents",
            json={"title": "Live", "content": "Hello brave new world"},
            headers=owner.headers,
        )
        document_id = created.json()["id"]
        target = {"url": server.ws_url, "doc": document_id, "token": owner.access_token}

        # The client's own relative positions become an anchor; the server's own too.
        made = yjs_client({**target, "quote": "brave"})
        url = f"/api/v1/documents/{document_id}/comments"
        body = {
            "body": "Brave?",
            "anchor": {"yjs_from": made["yjs_from"], "yjs_to": made["yjs_to"]},
        }
        first = await http.post(url, json=body, headers=owner.headers)
        assert first.status_code == 201, first.text
        assert first.json()["anchor"]["quote"] == "brave"
        second = await http.post(
            url, json={"body": "World", "anchor": {"from": 16, "to": 21}}, headers=owner.headers
        )
        assert second.status_code == 201, second.text
        world = second.json()["anchor"]

        # The client types before both (an emoji: two UTF-16 units, one code point) and
        # removes "new ", then reads the server's positions in its own document.
        edits = [{"before": "Hello", "insert": "🎉 Oh, "}, {"before": "new", "delete": 4}]
        result = yjs_client(
            {**target, "edits": edits, "positions": [world["yjs_from"], world["yjs_to"]]}
        )
        assert result["text"] == "🎉 Oh, Hello brave world"
        assert result["resolved"] == "world"
        expected = [(12, 17, "brave"), (18, 23, "world")]
        now = [
            (a["from"], a["to"], a["quote"])
            for a in await anchors(http, owner.headers, document_id)
        ]
        assert now == expected
        assert [result["text"][f:t] for f, t, _ in now] == ["brave", "world"]

    # A new process reads the same anchors from what was stored.
    server.stop()
    restarted = ServerProcess(env=server.env, workdir=tmp_path).start()
    try:
        async with httpx.AsyncClient(base_url=restarted.base_url, timeout=30) as http:
            after = await anchors(http, owner.headers, document_id)
            assert [(a["from"], a["to"], a["quote"]) for a in after] == expected
    finally:
        restarted.stop()
