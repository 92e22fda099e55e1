"""Workspace export -> import: the same titles, tags, text and attachments come back; other
tools' Markdown exports and single files import too; jobs belong to whoever started them."""

from __future__ import annotations

import io
import json
import uuid
import zipfile

import httpx

from tests.support.documents import create_document
from tests.support.files import upload
from tests.support.transfer import export_workspace, import_file, make_zip
from tests.support.workspaces import Team, make_workspace


async def _documents(client: httpx.AsyncClient, team: Team, workspace_id: str) -> list[dict]:
    response = await client.get(
        f"/api/v1/workspaces/{workspace_id}/documents", headers=team.owner.headers
    )
    assert response.status_code == 200
    full = []
    for item in response.json()["items"]:
        got = await client.get(f"/api/v1/documents/{item['id']}", headers=team.owner.headers)
        full.append(got.json())
    return sorted(full, key=lambda document: document["title"])


async def _file_bytes(client: httpx.AsyncClient, team: Team, file_id: str) -> bytes:
    response = await client.get(f"/api/v1/files/{file_id}/content", headers=team.owner.headers)
    assert response.status_code == 200
    return response.content


async def test_export_then_import_round_trips(client: httpx.AsyncClient, team: Team) -> None:
    workspace_id = team.workspace_id
    await create_document(
        client, team.editor, workspace_id, "Meeting notes", "# Monday\n\n- one\n- two\n", ["team"]
    )
    diagram = await create_document(
        client, team.editor, workspace_id, "Design / v2", "", ["a", "b"]
    )
    stored = await upload(
        client,
        team.editor,
        uuid.UUID(workspace_id),
        b"\x89PNG diagram bytes",
        filename="diagram v2.png",
        content_type="image/png",
        document_id=diagram["id"],
    )
    file_id = stored.json()["id"]
    body = f"See ![the diagram](/api/v1/files/{file_id}/content).\n"
    patched = await client.patch(
        f"/api/v1/documents/{diagram['id']}", json={"content": body}, headers=team.editor.headers
    )
    assert patched.status_code == 200
    for body in ("Which diagram?", "Version two"):
        commented = await client.post(
            f"/api/v1/documents/{diagram['id']}/comments",
            json={"body": body},
            headers=team.commenter.headers,
        )
        assert commented.status_code == 201
    trashed = await create_document(client, team.editor, workspace_id, "Old", "gone")
    await client.delete(f"/api/v1/documents/{trashed['id']}", headers=team.editor.headers)

    archive = zipfile.ZipFile(io.BytesIO(await export_workspace(client, team.admin, workspace_id)))
    names = set(archive.namelist())
    assert {"cowrite.json", "Meeting notes.md", "Design - v2.md"} <= names
    assert f"attachments/{file_id}/diagram v2.png" in names
    assert "Old.md" not in names
    manifest = json.loads(archive.read("cowrite.json"))
    for entry in manifest["documents"]:
        versions = await client.get(
            f"/api/v1/documents/{entry['id']}/versions", headers=team.owner.headers
        )
        listed = versions.json()
        count = len(listed["items"] if isinstance(listed, dict) else listed)
        assert entry["versions"] == count >= 1
        assert entry["comments"] == (2 if entry["id"] == diagram["id"] else 0)
    exported_md = archive.read("Design - v2.md").decode()
    assert exported_md.startswith("---\ntitle: Design / v2\ntags:\n- a\n- b\n")
    assert f"(attachments/{file_id}/diagram%20v2.png)" in exported_md

    target = await make_workspace(client, team.owner, name="Restored")
    job = await import_file(
        client,
        team.owner,
        target["id"],
        "export.zip",
        archive.fp.getvalue(),  # type: ignore[union-attr]
    )
    assert job["status"] == "done", job
    assert sorted(d["title"] for d in job["result"]["documents"]) == [
        "Design / v2",
        "Meeting notes",
    ]
    before = await _documents(client, team, workspace_id)
    after = await _documents(client, team, target["id"])
    assert [(d["title"], d["tags"]) for d in after] == [(d["title"], d["tags"]) for d in before]
    assert after[1]["content"] == before[1]["content"]
    files = await client.get(f"/api/v1/workspaces/{target['id']}/files", headers=team.owner.headers)
    [new_file] = files.json()["items"]
    assert new_file["filename"] == "diagram v2.png"
    assert new_file["document_id"] == after[0]["id"]
    assert after[0]["content"] == f"See ![the diagram](/api/v1/files/{new_file['id']}/content).\n"
    assert await _file_bytes(client, team, new_file["id"]) == b"\x89PNG diagram bytes"


async def test_another_tools_markdown_export(client: httpx.AsyncClient, team: Team) -> None:
    archive = make_zip(
        {
            "Notes/Welcome.md": b"---\ntitle: Welcome!\ntags: [intro, Docs]\n---\n"
            b"Hello ![logo](../images/logo%20big.png) and [site](https://example.com).\n",
            "Notes/Sub/Plain.txt": b"Plain text body\n",
            "images/logo big.png": b"PNGDATA",
            "images/unused.png": b"unused",
        }
    )
    job = await import_file(client, team.editor, team.workspace_id, "notion.zip", archive)
    assert job["status"] == "done", job
    documents = await _documents(client, team, team.workspace_id)
    assert [(d["title"], d["tags"]) for d in documents] == [
        ("Plain", []),
        ("Welcome!", ["docs", "intro"]),
    ]
    assert documents[0]["content"] == "Plain text body\n"
    files = await client.get(
        f"/api/v1/workspaces/{team.workspace_id}/files", headers=team.owner.headers
    )
    [logo] = files.json()["items"]
    assert logo["filename"] == "logo big.png"
    assert logo["content_type"] == "image/png"
    assert documents[1]["content"] == (
        f"Hello ![logo](/api/v1/files/{logo['id']}/content) and [site](https://example.com).\n"
    )
    assert await _file_bytes(client, team, logo["id"]) == b"PNGDATA"


async def test_single_files_import(client: httpx.AsyncClient, team: Team) -> None:
    html = b"<html><body><h1>Report</h1><p>Some <b>bold</b> text.</p></body></html>"
    assert (await import_file(client, team.editor, team.workspace_id, "report.html", html))[
        "status"
    ] == "done"
    assert (await import_file(client, team.editor, team.workspace_id, "todo.md", b"- [ ] a\n"))[
        "status"
    ] == "done"
    documents = await _documents(client, team, team.workspace_id)
    assert [d["title"] for d in documents] == ["report", "todo"]
    assert documents[0]["content"] == "# Report\n\nSome **bold** text.\n"
    assert documents[1]["content"] == "- [ ] a\n"


async def test_a_job_is_seen_only_by_its_creator(client: httpx.AsyncClient, team: Team) -> None:
    response = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/exports", headers=team.admin.headers
    )
    job_id = response.json()["job_id"]
    for other in (team.owner, team.editor, team.outsider):
        assert (
            await client.get(f"/api/v1/jobs/{job_id}", headers=other.headers)
        ).status_code == 404
        assert (
            await client.get(f"/api/v1/jobs/{job_id}/result", headers=other.headers)
        ).status_code == 404
    refused = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/exports", headers=team.editor.headers
    )
    assert refused.status_code == 403


async def test_restricted_documents_keep_their_people_and_rich_documents_their_format(
    client: httpx.AsyncClient, team: Team
) -> None:
    """An export says who may see a restricted document; the import restricts it again and lists
    the same people (guests included), so a round trip never opens a page to a whole workspace."""
    workspace_id = team.workspace_id
    secret = await create_document(client, team.editor, workspace_id, "Salaries", "Numbers.\n")
    restricted = await client.patch(
        f"/api/v1/documents/{secret['id']}",
        json={"visibility": "restricted"},
        headers=team.editor.headers,
    )
    assert restricted.status_code == 200, restricted.text
    for person, role in ((team.outsider, "viewer"), (team.commenter, "commenter")):
        listed = await client.post(
            f"/api/v1/documents/{secret['id']}/members",
            json={"email": person.email, "role": role},
            headers=team.editor.headers,
        )
        assert listed.status_code == 201, listed.text
    rich = await client.post(
        f"/api/v1/workspaces/{workspace_id}/documents",
        json={
            "title": "Rich notes",
            "content": "# Plan\n\nSome **bold** words.\n",
            "format": "rich",
        },
        headers=team.editor.headers,
    )
    assert rich.status_code == 201, rich.text

    archive = zipfile.ZipFile(io.BytesIO(await export_workspace(client, team.admin, workspace_id)))
    salaries = archive.read("Salaries.md").decode()
    assert "\nvisibility: restricted\n" in salaries
    assert "\nformat: rich\n" in archive.read("Rich notes.md").decode()
    manifest = json.loads(archive.read("cowrite.json"))
    entry = next(item for item in manifest["documents"] if item["title"] == "Salaries")
    assert entry["visibility"] == "restricted"
    assert {(p["email"], p["role"]) for p in entry["people"]} == {
        (team.outsider.email, "viewer"),
        (team.commenter.email, "commenter"),
        (team.editor.email, "editor"),  # whoever restricts a document below admin keeps it
    }
    entry["people"].append({"email": "nobody-here@example.com", "role": "viewer"})
    entry["people"].append({"email": team.viewer.email, "role": "owner"})  # not a document role
    rebuilt = io.BytesIO()
    with zipfile.ZipFile(rebuilt, "w") as out:
        for name in archive.namelist():
            data = archive.read(name)
            out.writestr(name, json.dumps(manifest) if name == "cowrite.json" else data)

    target = await make_workspace(client, team.owner, name="Restored")
    for member, role in ((team.viewer, "viewer"), (team.editor, "editor")):
        added = await client.post(
            f"/api/v1/workspaces/{target['id']}/members",
            json={"email": member.email, "role": role},
            headers=team.owner.headers,
        )
        assert added.status_code in (200, 201), added.text
    job = await import_file(client, team.editor, target["id"], "export.zip", rebuilt.getvalue())
    assert job["status"] == "done", job
    assert job["result"]["people_not_found"] == ["nobody-here@example.com"]
    ids = {d["title"]: d["id"] for d in job["result"]["documents"]}

    imported = await client.get(f"/api/v1/documents/{ids['Salaries']}", headers=team.owner.headers)
    assert imported.json()["visibility"] == "restricted"
    people = await client.get(
        f"/api/v1/documents/{ids['Salaries']}/members", headers=team.owner.headers
    )
    assert {(p["email"], p["role"]) for p in people.json()} == {
        (team.outsider.email, "viewer"),
        (team.commenter.email, "commenter"),
        (team.editor.email, "editor"),
    }
    # The guest reads it, the unlisted workspace member does not even see that it exists.
    guest = await client.get(f"/api/v1/documents/{ids['Salaries']}", headers=team.outsider.headers)
    assert guest.status_code == 200 and guest.json()["content"] == "Numbers.\n"
    unlisted = await client.get(f"/api/v1/documents/{ids['Salaries']}", headers=team.viewer.headers)
    assert unlisted.status_code == 404
    listing = await client.get(
        f"/api/v1/workspaces/{target['id']}/documents", headers=team.viewer.headers
    )
    assert [d["title"] for d in listing.json()["items"]] == ["Rich notes"]

    again = await client.get(f"/api/v1/documents/{ids['Rich notes']}", headers=team.owner.headers)
    assert again.json()["format"] == "rich"
    assert again.json()["content"] == rich.json()["content"]
    assert "**bold**" in again.json()["content"]
