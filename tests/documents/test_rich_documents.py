"""Rich-text documents over REST: the format, the forms a body is read in, writes in Markdown or
ProseMirror JSON, bad input, and versions, diffs, restores and search working on them."""

from __future__ import annotations

from typing import Any

import httpx

from tests.richtext.corpus import CORPUS, Json, paragraph, text
from tests.support.workspaces import Team


async def _create(client: httpx.AsyncClient, team: Team, **body: Any) -> dict[str, Any]:
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={"title": "Plan", **body},
        headers=team.editor.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _get(client: httpx.AsyncClient, team: Team, document_id: str, **params: str) -> Any:
    response = await client.get(
        f"/api/v1/documents/{document_id}", params=params, headers=team.viewer.headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def _patch(
    client: httpx.AsyncClient, team: Team, document_id: str, **body: Any
) -> httpx.Response:
    return await client.patch(
        f"/api/v1/documents/{document_id}", json=body, headers=team.editor.headers
    )


async def test_the_format_is_chosen_at_creation_and_answered_everywhere(
    client: httpx.AsyncClient, team: Team
) -> None:
    rich = await _create(client, team, format="rich", content="# Plan\n\n* one\n* two\n")
    plain = await _create(client, team, content="# Plain *as typed*\n")
    assert rich["format"] == "rich" and plain["format"] == "markdown"
    assert rich["content"] == "# Plan\n\n- one\n- two"  # the Markdown of the tree it became
    assert plain["content"] == "# Plain *as typed*\n"
    listed = await client.get(
        f"/api/v1/workspaces/{team.workspace_id}/documents", headers=team.viewer.headers
    )
    formats = {item["id"]: item["format"] for item in listed.json()["items"]}
    assert formats == {rich["id"]: "rich", plain["id"]: "markdown"}
    assert (await _get(client, team, rich["id"]))["format"] == "rich"
    assert "content_json" not in await _get(client, team, rich["id"])
    # Never opened for editing: its tree is read from the content, and reading writes nothing.
    tree = (await _get(client, team, rich["id"], **{"as": "json"}))["content_json"]
    assert [node["type"] for node in tree["content"]] == ["heading", "bulletList"]


async def test_a_body_reads_as_markdown_html_or_prosemirror_json(
    client: httpx.AsyncClient, team: Team
) -> None:
    rich = await _create(client, team, format="rich", content_json=CORPUS["marks"])
    as_json = await _get(client, team, rich["id"], **{"as": "json"})
    content = as_json["content_json"]["content"]
    link = content[1]["content"][-2]["marks"][0]
    assert link["attrs"]["href"] == "https://example.com/bold"
    assert link["attrs"]["target"] == "_blank"  # what Markdown cannot hold, kept in the tree
    html = (await _get(client, team, rich["id"], **{"as": "html"}))["content"]
    assert html.startswith("<h1>Release notes</h1><p>Plain, <strong>bold</strong>")
    assert "<u>underlined</u>" in html
    plain = await _create(client, team, content="Hello <script>x</script> **there**")
    html = (await _get(client, team, plain["id"], **{"as": "html"}))["content"]
    assert html == "<p>Hello &lt;script&gt;x&lt;/script&gt; <strong>there</strong></p>\n"
    as_json = (await _get(client, team, plain["id"], **{"as": "json"}))["content_json"]
    assert as_json["content"][0]["content"][-1] == text("there", "bold")


async def test_writes_in_prosemirror_json_become_markdown_content(
    client: httpx.AsyncClient, team: Team
) -> None:
    rich = await _create(client, team, format="rich")
    response = await _patch(client, team, rich["id"], content_json=CORPUS["lists"])
    assert response.status_code == 200, response.text
    assert response.json()["content"].startswith("- milk\n- fruit\n  - apples")
    got = await _get(client, team, rich["id"], **{"as": "json"})
    assert got["content_json"]["content"][2]["type"] == "taskList"
    assert got["content"] == response.json()["content"]


async def test_bad_input_is_refused_naming_the_node(client: httpx.AsyncClient, team: Team) -> None:
    rich = await _create(client, team, format="rich", content="kept")
    plain = await _create(client, team, content="kept")
    table: Json = {"type": "doc", "content": [paragraph(text("ok")), {"type": "table"}]}
    deep: Json = paragraph(text("deep"))
    for _ in range(70):
        deep = {"type": "blockquote", "content": [deep]}
    cases: list[tuple[str, dict[str, Any], str]] = [
        (rich["id"], {"content_json": table}, "unknown node type 'table' at .content[1]"),
        (rich["id"], {"content_json": {"type": "doc", "content": [deep]}}, "deeper than 64"),
        (rich["id"], {"content_json": {"type": "doc"}, "content": "x"}, "not both"),
        (plain["id"], {"content_json": {"type": "doc"}}, "for rich documents"),
    ]
    for document_id, body, message in cases:
        response = await _patch(client, team, document_id, **body)
        assert response.status_code == 422, (body, response.text)
        assert message in response.json()["detail"], response.json()
    assert (await _get(client, team, rich["id"]))["content"] == "kept"
    assert (await _get(client, team, plain["id"]))["content"] == "kept"


async def test_versions_diff_in_markdown_and_restore_the_tree(
    client: httpx.AsyncClient, team: Team
) -> None:
    first: Json = {
        "type": "doc",
        "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [text("Goals")]},
            paragraph(text("Ship "), text("rich", "bold"), text(" text.")),
        ],
    }
    rich = await _create(client, team, format="rich", content_json=first)
    original = (await _get(client, team, rich["id"], **{"as": "json"}))["content_json"]
    versions = f"/api/v1/documents/{rich['id']}/versions"
    labelled = await client.post(versions, json={"label": "first"}, headers=team.editor.headers)
    assert labelled.status_code == 201, labelled.text
    number = labelled.json()["number"]
    changed = {"type": "doc", "content": [first["content"][0], paragraph(text("Ship it all."))]}
    assert (await _patch(client, team, rich["id"], content_json=changed)).status_code == 200
    diff = await client.get(
        f"{versions}/{number}/diff", params={"against": "current"}, headers=team.viewer.headers
    )
    assert diff.status_code == 200, diff.text
    unified = diff.json()["unified"]
    assert "-Ship **rich** text." in unified and "+Ship it all." in unified
    restored = await client.post(f"{versions}/{number}/restore", headers=team.editor.headers)
    assert restored.status_code == 200, restored.text
    assert restored.json()["content"] == "## Goals\n\nShip **rich** text."
    assert (await _get(client, team, rich["id"], **{"as": "json"}))["content_json"] == original


async def test_search_finds_the_text_of_rich_documents(
    client: httpx.AsyncClient, team: Team
) -> None:
    rich = await _create(client, team, format="rich", content_json=CORPUS["blocks"])
    response = await client.get(
        "/api/v1/search", params={"q": "wisdom"}, headers=team.viewer.headers
    )
    assert response.status_code == 200, response.text
    assert [item["document_id"] for item in response.json()["items"]] == [rich["id"]]
