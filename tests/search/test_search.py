"""Full-text search over REST, the same answers on SQLite (FTS5) and PostgreSQL (tsvector)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from cowrite.search import repository
from tests.search.corpus import FIXED_QUERIES, Doc, build_corpus, expected, generated_queries
from tests.support.documents import create_document, delete_workspace
from tests.support.workspaces import Team, add_member, make_workspace

SEARCH = "/api/v1/search"


async def search(
    client: httpx.AsyncClient, user: Any, q: str, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(SEARCH, params={"q": q, **params}, headers=user.headers)
    assert response.status_code == 200, (q, response.text)
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def load_corpus(client: httpx.AsyncClient, team: Team, docs: list[Doc]) -> dict[str, str]:
    """Create the corpus; return document id -> corpus key."""
    keys = {}
    for doc in docs:
        created = await create_document(
            client, team.editor, team.workspace_id, doc.title, doc.content, list(doc.tags)
        )
        keys[created["id"]] = doc.key
    return keys


@pytest.fixture
async def corpus(client: httpx.AsyncClient, team: Team) -> dict[str, str]:
    return await load_corpus(client, team, build_corpus())


async def found_keys(
    client: httpx.AsyncClient, team: Team, keys: dict[str, str], q: str, **params: Any
) -> set[str]:
    items = await search(client, team.viewer, q, limit=200, **params)
    return {keys[item["document_id"]] for item in items}


async def test_fixed_queries_find_exactly_the_expected_documents(
    client: httpx.AsyncClient, team: Team, corpus: dict[str, str]
) -> None:
    docs = build_corpus()
    # Every match is ranked (no bound applies), so both engines must answer exactly.
    assert len(docs) < repository.CANDIDATES
    wrong = {}
    for q, want in FIXED_QUERIES:
        assert expected(q, docs) == want, q  # the reference agrees with the hand-checked answer
        got = await found_keys(client, team, corpus, q)
        if got != want:
            wrong[q] = sorted(got)
    assert wrong == {}


async def test_generated_queries_match_the_reference_on_this_backend(
    client: httpx.AsyncClient, team: Team, corpus: dict[str, str]
) -> None:
    docs = build_corpus()
    mismatches = {}
    nonempty = 0
    for q in generated_queries():
        want = expected(q, docs)
        nonempty += bool(want)
        got = await found_keys(client, team, corpus, q)
        if got != want:
            mismatches[q] = (sorted(got - want), sorted(want - got))
    assert mismatches == {}
    assert nonempty > 20  # the generated queries do find things


async def test_title_matches_rank_above_body_matches(client: httpx.AsyncClient, team: Team) -> None:
    body = await create_document(
        client, team.editor, team.workspace_id, "Weekly notes", "we discussed the walrus plan"
    )
    title = await create_document(
        client, team.editor, team.workspace_id, "Walrus plan", "we discussed the budget"
    )
    items = await search(client, team.viewer, "walrus")
    assert [item["document_id"] for item in items] == [title["id"], body["id"]]
    assert items[0]["score"] > items[1]["score"] > 0
    assert items[0]["title"] == "Walrus plan"
    assert items[0]["workspace_id"] == str(team.workspace_id)


async def test_snippets_highlight_matches_and_escape_markup(
    client: httpx.AsyncClient, team: Team
) -> None:
    await create_document(
        client,
        team.editor,
        team.workspace_id,
        "Page",
        "intro text. <img src=x onerror=alert(1)> the Narwhal swims & dives deep. outro",
    )
    [item] = await search(client, team.viewer, "narwhal")
    assert "<mark>Narwhal</mark>" in item["snippet"]
    assert "<img" not in item["snippet"]
    assert "&amp;" in item["snippet"]


async def test_the_index_follows_edits_and_permanent_deletes(
    client: httpx.AsyncClient, team: Team
) -> None:
    document = await create_document(client, team.editor, team.workspace_id, "Zoo", "otter")
    url = f"/api/v1/documents/{document['id']}"
    response = await client.patch(url, json={"content": "beaver"}, headers=team.editor.headers)
    assert response.status_code == 200
    assert await search(client, team.viewer, "otter") == []
    assert [i["document_id"] for i in await search(client, team.viewer, "beaver")] == [
        document["id"]
    ]
    response = await client.patch(url, json={"title": "Aquarium"}, headers=team.editor.headers)
    assert [i["title"] for i in await search(client, team.viewer, "aquarium")] == ["Aquarium"]
    assert await search(client, team.viewer, "zoo") == []


async def test_only_live_documents_of_my_live_workspaces(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    mine = await create_document(client, team.editor, team.workspace_id, "Mine", "pelican")
    other_ws = (await make_workspace(client, team.outsider, name="Elsewhere"))["id"]
    response = await client.post(
        f"/api/v1/workspaces/{other_ws}/documents",
        json={"title": "Theirs", "content": "pelican"},
        headers=team.outsider.headers,
    )
    assert response.status_code == 201
    trashed = await create_document(client, team.editor, team.workspace_id, "Binned", "pelican")
    await client.delete(f"/api/v1/documents/{trashed['id']}", headers=team.editor.headers)

    assert [i["document_id"] for i in await search(client, team.viewer, "pelican")] == [mine["id"]]
    assert len(await search(client, team.outsider, "pelican")) == 1

    # A second workspace of the viewer's: both show; then one is deleted.
    await add_member(client, other_ws, team.outsider, team.viewer, "viewer")
    assert len(await search(client, team.viewer, "pelican")) == 2
    await delete_workspace(client, team.outsider, other_ws)
    assert [i["document_id"] for i in await search(client, team.viewer, "pelican")] == [mine["id"]]


async def test_workspace_and_tag_filters(
    app: FastAPI, client: httpx.AsyncClient, team: Team
) -> None:
    a = await create_document(client, team.editor, team.workspace_id, "A", "heron", ["Birds"])
    await create_document(client, team.editor, team.workspace_id, "B", "heron", ["fish"])
    other_ws = (await make_workspace(client, team.viewer, name="Viewer's own"))["id"]
    response = await client.post(
        f"/api/v1/workspaces/{other_ws}/documents",
        json={"title": "C", "content": "heron"},
        headers=team.viewer.headers,
    )
    assert response.status_code == 201

    assert len(await search(client, team.viewer, "heron")) == 3
    in_team = await search(client, team.viewer, "heron", workspace_id=str(team.workspace_id))
    assert len(in_team) == 2
    tagged = await search(client, team.viewer, "heron", tag=" BIRDS ")
    assert [i["document_id"] for i in tagged] == [a["id"]]
    assert await search(client, team.viewer, "heron", tag="no such tag") == []
    assert len(await search(client, team.viewer, "heron", limit=1)) == 1

    hidden = await client.get(
        SEARCH, params={"q": "heron", "workspace_id": str(other_ws)}, headers=team.admin.headers
    )
    assert hidden.status_code == 404
    unknown = await client.get(
        SEARCH, params={"q": "heron", "workspace_id": str(uuid.uuid4())}, headers=team.admin.headers
    )
    assert unknown.status_code == 404


# Queries full of engine syntax, and whether they should find the one document "heron and egret".
HOSTILE = [
    ('"', False),
    ('""', False),
    ('"unbalanced phrase', False),
    ('"heron and', True),
    ("(((", False),
    (")))", False),
    ("( heron", True),
    ("heron )", True),
    ("((heron) OR (x)", True),
    ("*", False),
    ("heron*", True),
    ("title:heron", False),
    ("content : heron", False),
    ("heron : egret", True),
    ("NEAR(heron egret)", False),
    ("heron NEAR egret", False),
    ("heron NEAR/2 egret", False),
    ("^heron", True),
    ("heron AND egret", True),
    ("heron NOT egret", False),
    ("heron & egret | !egret", True),
    ("heron <-> egret", True),
    ("heron <2> egret", False),
    ("'heron'", True),
    ("heron' OR '1'='1", True),
    ("'; DROP TABLE documents; --", False),
    ("-", False),
    ("--", False),
    ("- -heron", False),
    ("heron -egret", False),
    ("OR OR OR", False),
    ("\\", False),
    ("%_%", False),
    ("\u0000", False),
    ("heron\u0000and", True),
    ("🦩 heron", True),
    ("heron 🦩", True),
    ("a" * 500, False),
    (" ".join(["heron"] * 80), True),
    ("{title}: heron", False),
    ("heron:*", True),
    ("heron:A", False),
    ("heron:A egret", False),
]


async def test_hostile_queries_get_a_clean_answer(client: httpx.AsyncClient, team: Team) -> None:
    await answer_hostile_queries(client, team)


async def answer_hostile_queries(client: httpx.AsyncClient, team: Team) -> None:
    """Each of HOSTILE gets a 200 and finds the one document exactly when it should."""
    document = await create_document(
        client, team.editor, team.workspace_id, "Birds", "heron and egret"
    )
    wrong = {}
    for q, finds in HOSTILE:
        response = await client.get(SEARCH, params={"q": q}, headers=team.viewer.headers)
        assert response.status_code == 200, (q, response.text)
        ids = [item["document_id"] for item in response.json()["items"]]
        if ids != ([document["id"]] if finds else []):
            wrong[q] = ids
    assert wrong == {}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "x" * 501},
        {"q": "x", "limit": 0},
        {"q": "x", "limit": 201},
        {"q": "x", "workspace_id": "nope"},
    ],
)
async def test_malformed_search_requests_get_422(
    client: httpx.AsyncClient, team: Team, params: dict[str, Any]
) -> None:
    response = await client.get(SEARCH, params=params, headers=team.viewer.headers)
    assert response.status_code == 422


async def test_search_needs_a_login(client: httpx.AsyncClient) -> None:
    assert (await client.get(SEARCH, params={"q": "x"})).status_code == 401


async def test_a_body_too_rich_for_one_tsvector_is_still_saved_and_found(
    client: httpx.AsyncClient, team: Team
) -> None:
    """2 MB of distinct words overflow PostgreSQL's 1 MB tsvector: the leading part is indexed."""
    words = [uuid.uuid4().hex for _ in range(60_000)]
    document = await create_document(
        client, team.editor, team.workspace_id, "Hashes", " ".join(words)
    )
    found = await search(client, team.viewer, words[0])
    assert [item["document_id"] for item in found] == [document["id"]]
    assert [i["document_id"] for i in await search(client, team.viewer, "hashes")] == [
        document["id"]
    ]


async def test_a_frequent_query_ranks_a_bounded_set_of_its_matches(
    client: httpx.AsyncClient, team: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past `CANDIDATES` matches only that many are ranked; every answer still truly matches."""
    monkeypatch.setattr(repository, "CANDIDATES", 4)
    phrase, scattered, trashed = [], [], []
    for i in range(6):
        made = await create_document(client, team.editor, team.workspace_id, f"P{i}", "red kite")
        phrase.append(made["id"])
        made = await create_document(client, team.editor, team.workspace_id, f"S{i}", "kite red")
        scattered.append(made["id"])
    for i in range(5):
        made = await create_document(client, team.editor, team.workspace_id, f"T{i}", "red kite")
        await client.delete(f"/api/v1/documents/{made['id']}", headers=team.editor.headers)
        trashed.append(made["id"])

    found = [item["document_id"] for item in await search(client, team.viewer, "kite", limit=50)]
    assert len(found) == 4 and set(found) <= set(phrase + scattered)
    # The phrase is checked on the candidates of its words: never a document without it.
    exact = [item["document_id"] for item in await search(client, team.viewer, '"red kite"')]
    assert 0 < len(exact) <= 4 and set(exact) <= set(phrase)
    # Trashed documents take no candidate's place, and below the bound the answer is complete.
    monkeypatch.setattr(repository, "CANDIDATES", 12)
    found = [item["document_id"] for item in await search(client, team.viewer, "kite", limit=50)]
    assert sorted(found) == sorted(phrase + scattered)
    exact = [item["document_id"] for item in await search(client, team.viewer, '"red kite"')]
    assert sorted(exact) == sorted(phrase)


async def test_a_workspace_search_shows_restricted_documents_to_exactly_their_readers(
    client: httpx.AsyncClient, team: Team
) -> None:
    """Named workspace: the caller's role there decides, by the one visibility rule."""
    await create_document(client, team.owner, team.workspace_id, "Open", "puffin colony")
    secret = await create_document(client, team.owner, team.workspace_id, "Secret", "puffin")
    url = f"/api/v1/documents/{secret['id']}"
    restricted = {"visibility": "restricted"}
    assert (await client.patch(url, json=restricted, headers=team.owner.headers)).status_code == 200
    listed = await client.post(
        f"{url}/members",
        json={"email": team.viewer.email, "role": "viewer"},
        headers=team.owner.headers,
    )
    assert listed.status_code == 201
    in_workspace = {"workspace_id": str(team.workspace_id)}

    async def titles(who: Any) -> set[str]:
        return {item["title"] for item in await search(client, who, "puffin", **in_workspace)}

    for who in (team.owner, team.admin, team.viewer):
        assert await titles(who) == {"Open", "Secret"}
    for who in (team.editor, team.commenter):
        assert await titles(who) == {"Open"}

    # Trashed, it is gone for everyone; restored, it is back for its readers only.
    assert (await client.delete(url, headers=team.owner.headers)).status_code == 204
    assert await titles(team.admin) == {"Open"}
    restored = await client.post(f"{url}/restore", headers=team.owner.headers)
    assert restored.status_code == 200
    assert await titles(team.admin) == {"Open", "Secret"}
    assert await titles(team.editor) == {"Open"}


async def test_snippets_are_cut_around_the_best_match_of_a_long_body(
    client: httpx.AsyncClient, team: Team
) -> None:
    filler = " ".join(f"word{i}" for i in range(400))
    body = f"{filler} the Osprey dives. {filler} osprey and heron fish together. {filler}"
    await create_document(client, team.editor, team.workspace_id, "Birds", body)
    [item] = await search(client, team.viewer, "heron osprey")
    # The stretch holding both words wins over the earlier one holding one of them.
    assert "<mark>osprey</mark> and <mark>heron</mark> fish together" in item["snippet"]
    assert item["snippet"].startswith("… ") and item["snippet"].endswith(" …")
    assert len(item["snippet"]) < 300
    # A title-only match shows the start of the body.
    [item] = await search(client, team.viewer, "birds")
    assert item["snippet"].startswith("word0 word1") and "<mark>" not in item["snippet"]


async def test_postgres_text_index_keeps_its_pending_list_short(app: FastAPI) -> None:
    """Every search reads GIN's pending list whole: migration 0015 keeps it to 256 kB."""
    factory = app.state.cowrite.session_factory
    async with factory() as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("a setting of PostgreSQL's GIN index; SQLite's FTS5 has no pending list")
        options = await session.scalar(
            text("SELECT reloptions FROM pg_class WHERE relname = 'ix_documents_search_vector'")
        )
    assert options == ["gin_pending_list_limit=256"]
