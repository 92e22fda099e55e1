"""PostgreSQL looks for the newest matches window by window (`search.windows`); however the
windows fall, both backends rank exactly the newest matches the caller may see, newest first."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from cowrite.search import repository, windows
from cowrite.search.query import parse
from cowrite.search.windows import Plan, WordShares, floors, plan
from tests.search.test_search import answer_hostile_queries
from tests.support.documents import create_document
from tests.support.workspaces import Team

SEARCH = "/api/v1/search"
MATCHING = {1, 4, 5, 6, 9, 15, 22, 23, 30, 37, 38}
TRASHED = {38, 23}
RESTRICTED = {37, 22, 6}


def test_the_windows_grow_back_to_the_oldest_document(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(windows, "GROWTH", 4)
    assert floors(1000, 10) == [990, 960, 840, 360]
    assert floors(1000, 400) == [600]
    # A first window that reaches the oldest document, or none at all: one window.
    assert floors(1000, 1000) == floors(1000, 5000) == floors(1000, 0) == []


def test_frequent_words_walk_and_others_take_the_bitmap_of_a_window_sized_for_them() -> None:
    shares = WordShares({"common": 0.5, "middling": 0.05, "rare": 0.01}, rest=0.01)

    def way(q: str, documents: int = 100_000) -> Plan:
        return plan(parse(q), 200, shares, documents)

    # A walk stops at the bound: it may read a window of 3 times the matches wanted.
    assert way("common") == Plan(1200, bitmap=False)
    assert way("common -rare") == Plan(1213, bitmap=False)  # 600 / (0.5 * 0.99)
    # A bitmap reads its window whole: 2 times the matches wanted.
    assert way("middling") == Plan(8000, bitmap=True)
    assert way("common middling") == Plan(16000, bitmap=True)  # the index skips to "middling"
    assert way('"common middling"') == Plan(16000, bitmap=True)
    assert way("middling OR rare") == Plan(6723, bitmap=True)  # 400 / (1 - 0.95 * 0.99)
    assert way("unlisted") == way("rare") == Plan(40000, bitmap=True)
    # Among few documents the posting lists are short: a bitmap pays even for a common word.
    assert way("common", documents=1000) == Plan(800, bitmap=True)
    # Without statistics: a fixed window, and the planner's choice.
    assert plan(parse("common"), 200, None, 100_000) == Plan(3200, bitmap=False)


async def make_many(client: httpx.AsyncClient, team: Team) -> None:
    """40 documents, oldest first; the MATCHING ones mention an egret (alike: equal scores),
    TRASHED ones are in the trash, RESTRICTED ones hidden from the viewer, even ones tagged."""
    for i in range(40):
        body = "a lone egret" if i in MATCHING else "nothing to see"
        tags = ["even"] if i % 2 == 0 else []
        made = await create_document(
            client, team.editor, team.workspace_id, f"Doc {i:02}", body, tags
        )
        url = f"/api/v1/documents/{made['id']}"
        if i in TRASHED:
            assert (await client.delete(url, headers=team.editor.headers)).status_code == 204
        if i in RESTRICTED:
            patch = {"visibility": "restricted"}
            response = await client.patch(url, json=patch, headers=team.owner.headers)
            assert response.status_code == 200, response.text


async def titles(client: httpx.AsyncClient, who: Any, q: str, **params: str) -> list[str]:
    response = await client.get(SEARCH, params={"q": q, "limit": 50, **params}, headers=who.headers)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


def expected(count: int, *, restricted: bool) -> list[str]:
    """The `count` newest live matches that the viewer (or, with `restricted`, an admin) sees."""
    seen = sorted(MATCHING - TRASHED - (set() if restricted else RESTRICTED), reverse=True)
    return [f"Doc {i:02}" for i in seen[:count]]


@pytest.fixture(params=[False, True], ids=["walk", "bitmap"])
def narrow(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows of 3, 6, 12 … documents, so that a search reads several, each way."""
    bitmap: bool = request.param
    monkeypatch.setattr(repository, "CANDIDATES", 4)
    monkeypatch.setattr(windows, "GROWTH", 2)
    monkeypatch.setattr(windows, "plan", lambda query, wanted, shares, count: Plan(3, bitmap))


@pytest.mark.usefixtures("narrow")
async def test_windows_give_the_newest_matches_past_trashed_and_restricted_ones(
    client: httpx.AsyncClient, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_many(client, team)
    assert await titles(client, team.viewer, "egret") == expected(4, restricted=False)
    assert await titles(client, team.admin, "egret") == expected(4, restricted=True)
    assert await titles(client, team.viewer, '"lone egret"') == expected(4, restricted=False)
    assert await titles(client, team.viewer, "egret -see") == expected(4, restricted=False)
    assert await titles(client, team.viewer, "egret OR heron") == expected(4, restricted=False)
    assert await titles(client, team.viewer, "egret heron") == []
    # Within a workspace (the caller's role there decides) and with a tag.
    workspace = {"workspace_id": str(team.workspace_id)}
    assert await titles(client, team.viewer, "egret", **workspace) == expected(4, restricted=False)
    assert await titles(client, team.admin, "egret", **workspace) == expected(4, restricted=True)
    tagged = await titles(client, team.viewer, "egret", tag="even", **workspace)
    assert tagged == [title for title in expected(50, restricted=False) if int(title[-2:]) % 2 == 0]
    # Below the bound every match is found, however many windows it takes.
    monkeypatch.setattr(repository, "CANDIDATES", 50)
    assert await titles(client, team.viewer, "egret") == expected(50, restricted=False)
    assert await titles(client, team.admin, "egret") == expected(50, restricted=True)


@pytest.mark.usefixtures("narrow")
@pytest.mark.parametrize("newest", [1, 10, 10_000])
async def test_an_outdated_newest_document_changes_no_answer(
    client: httpx.AsyncClient, team: Team, monkeypatch: pytest.MonkeyPatch, newest: int
) -> None:
    """The windows are placed below the newest document a search saw last: other processes
    may have added documents since, or (a restored database) it may be gone."""
    await make_many(client, team)

    def known(session: Any) -> repository._Known:
        return repository._Known(newest=newest)

    monkeypatch.setattr(repository, "_known", known)
    assert await titles(client, team.viewer, "egret") == expected(4, restricted=False)
    assert await titles(client, team.admin, "egret") == expected(4, restricted=True)


async def test_postgres_statistics_give_the_words_shares(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    for i in range(20):
        body = "an egret and a heron" if i % 4 == 0 else "a heron"
        await create_document(client, team.editor, team.workspace_id, f"Doc {i}", body)
    async with app.state.cowrite.session_factory() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("PostgreSQL's statistics of its text column; SQLite's FTS5 needs none")
        await session.execute(text("ANALYZE documents"))
        shares = await repository._word_shares(session)
    assert shares is not None
    assert shares.of("heron") == pytest.approx(1.0)
    assert shares.of("egret") == pytest.approx(0.25)
    assert shares.of("osprey") <= shares.of("egret")


@pytest.mark.usefixtures("narrow")
async def test_hostile_queries_get_a_clean_answer_either_way(
    client: httpx.AsyncClient, team: Team
) -> None:
    """The bitmap's statement is handed to a database function as text: quotes, colons and
    operators in a query reach it only as the words of a quoted literal."""
    for i in range(6):
        await create_document(client, team.editor, team.workspace_id, f"Doc {i}", "nothing here")
    await answer_hostile_queries(client, team)
