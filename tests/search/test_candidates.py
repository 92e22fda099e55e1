"""Past the candidate bound, both backends rank the same matches (the newest) in the same order."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from cowrite.search import repository
from tests.support.documents import create_document
from tests.support.workspaces import Team

SEARCH = "/api/v1/search"


async def titles(client: httpx.AsyncClient, team: Team, q: str) -> list[str]:
    response = await client.get(SEARCH, params={"q": q, "limit": 50}, headers=team.viewer.headers)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def make(client: httpx.AsyncClient, team: Team, title: str, content: str) -> dict[str, Any]:
    return await create_document(client, team.editor, team.workspace_id, title, content)


async def test_the_newest_matches_are_ranked_and_equal_scores_go_to_the_newer(
    client: httpx.AsyncClient, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(repository, "CANDIDATES", 4)
    for i in range(6):
        await make(client, team, f"A{i}", "big kite")
        made = await make(client, team, f"B{i}", "big kite")
        response = await client.delete(
            f"/api/v1/documents/{made['id']}", headers=team.editor.headers
        )
        assert response.status_code == 204
        await make(client, team, f"C{i}", "a heron!")
    # The four newest live matches, all alike: newest first. Trashed ones take no place.
    assert await titles(client, team, "kite") == ["A5", "A4", "A3", "A2"]
    assert await titles(client, team, '"big kite"') == ["A5", "A4", "A3", "A2"]
    assert await titles(client, team, "kite -big") == []
    assert await titles(client, team, "kite OR heron") == ["C5", "A5", "C4", "A4"]


async def test_an_older_better_match_loses_to_newer_ones_past_the_bound(
    client: httpx.AsyncClient, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make(client, team, "Osprey osprey", "osprey osprey osprey")
    for i in range(3):
        await make(client, team, f"Note {i}", f"an osprey, seen {i} times")
    assert (await titles(client, team, "osprey"))[0] == "Osprey osprey"
    monkeypatch.setattr(repository, "CANDIDATES", 3)
    assert await titles(client, team, "osprey") == ["Note 2", "Note 1", "Note 0"]


async def test_sparse_matches_among_many_documents_are_all_found_newest_first(
    client: httpx.AsyncClient, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL looks at a window of the newest documents first, then wider ones."""
    monkeypatch.setattr(repository, "CANDIDATES", 3)
    matching = {2, 9, 21, 33, 47}
    for i in range(50):
        body = "a lone egret" if i in matching else "nothing to see"
        await make(client, team, f"Doc {i:02}", body)
    assert await titles(client, team, "egret") == ["Doc 47", "Doc 33", "Doc 21"]
    monkeypatch.setattr(repository, "CANDIDATES", 10)
    assert await titles(client, team, "egret") == ["Doc 47", "Doc 33", "Doc 21", "Doc 09", "Doc 02"]
