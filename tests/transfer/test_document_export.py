"""A document as a download: Markdown with its front matter, or sanitized HTML."""

from __future__ import annotations

import uuid

import httpx

from tests.support.documents import create_document
from tests.support.files import upload
from tests.support.workspaces import Team


async def test_markdown_export_is_the_stored_text(client: httpx.AsyncClient, team: Team) -> None:
    document = await create_document(
        client, team.editor, team.workspace_id, "Plan: Q3", "# Goals\n\nShip it.\n", ["work"]
    )
    response = await client.get(
        f"/api/v1/documents/{document['id']}/export",
        params={"format": "md"},
        headers=team.viewer.headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    assert 'filename="Plan- Q3.md"' in response.headers["content-disposition"]
    text = response.text
    assert text.startswith("---\ntitle: 'Plan: Q3'\ntags:\n- work\n")
    assert text.endswith("---\n# Goals\n\nShip it.\n")


async def test_html_export_is_sanitized_and_shows_attachments(
    client: httpx.AsyncClient, team: Team
) -> None:
    content = (
        "# Trip\n\n<script>alert('x')</script>\n\n![map](map.png)\n\n"
        "[bad](javascript:alert(1)) <img src=x onerror=alert(1)>\n"
    )
    document = await create_document(client, team.editor, team.workspace_id, "Trip", content)
    stored = await upload(
        client,
        team.editor,
        uuid.UUID(team.workspace_id),
        b"\x89PNG fake",
        filename="map.png",
        content_type="image/png",
        document_id=document["id"],
    )
    assert stored.status_code == 201, stored.text
    response = await client.get(
        f"/api/v1/documents/{document['id']}/export",
        params={"format": "html"},
        headers=team.viewer.headers,
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "<h1>Trip</h1>" in page
    assert f'src="/api/v1/files/{stored.json()["id"]}/content"' in page
    assert "<script" not in page
    assert "onerror" not in page
    assert 'href="javascript:' not in page


async def test_unknown_format_is_422(client: httpx.AsyncClient, team: Team) -> None:
    document = await create_document(client, team.editor, team.workspace_id)
    response = await client.get(
        f"/api/v1/documents/{document['id']}/export",
        params={"format": "docx"},
        headers=team.viewer.headers,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
