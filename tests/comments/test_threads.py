"""Threads over REST: anchors on the text, replies, edits, deletes, resolve, reactions."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from cowrite.db import create_engine, create_session_factory, unit_of_work
from cowrite.models import CommentMention
from tests.comments.conftest import document_with, post_comment, threads
from tests.support.databases import TestDatabase
from tests.support.workspaces import Team

TEXT = "The quick brown fox jumps over the lazy dog."


async def test_a_thread_with_an_anchor_and_replies(client: httpx.AsyncClient, team: Team) -> None:
    document_id = await document_with(client, team, TEXT)
    first = await post_comment(
        client, team.commenter, document_id, "Which fox?", anchor={"from": 10, "to": 19}
    )
    anchor = {k: first["anchor"][k] for k in ("from", "to", "quote", "orphaned")}
    assert anchor == {"from": 10, "to": 19, "quote": "brown fox", "orphaned": False}
    assert first["thread_id"] == first["id"] and first["parent_id"] is None
    assert first["author"] == {"id": str(team.commenter.id), "full_name": "Cora Commenter"}
    reply = await post_comment(client, team.editor, document_id, "That one", parent_id=first["id"])
    assert (reply["thread_id"], reply["parent_id"], reply["anchor"]) == (first["id"],) * 2 + (None,)

    [thread] = await threads(client, team.viewer, document_id)
    assert thread["body"] == "Which fox?"
    assert [r["body"] for r in thread["replies"]] == ["That one"]
    assert thread["anchor"]["quote"] == "brown fox"


async def test_anchors_move_with_rest_edits_and_orphan_when_their_text_goes(
    client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await document_with(client, team, TEXT)
    await post_comment(client, team.commenter, document_id, anchor={"from": 10, "to": 19})
    url = f"/api/v1/documents/{document_id}"

    edited = "Look: " + TEXT.replace("brown fox", "brown  fox")
    response = await client.patch(url, json={"content": edited}, headers=team.editor.headers)
    assert response.status_code == 200
    [thread] = await threads(client, team.viewer, document_id)
    assert (thread["anchor"]["from"], thread["anchor"]["to"]) == (16, 26)
    assert edited[16:26] == "brown  fox"

    gone = edited.replace("brown  fox ", "")
    response = await client.patch(url, json={"content": gone}, headers=team.editor.headers)
    assert response.status_code == 200
    [thread] = await threads(client, team.viewer, document_id)
    assert thread["anchor"]["quote"] == "brown fox" and thread["anchor"]["orphaned"]
    assert (thread["anchor"]["from"], thread["anchor"]["to"]) == (None, None)


async def test_offsets_count_code_points(client: httpx.AsyncClient, team: Team) -> None:
    document_id = await document_with(client, team, "🎉 héllo wörld")
    made = await post_comment(client, team.editor, document_id, anchor={"from": 8, "to": 13})
    assert made["anchor"]["quote"] == "wörld"
    response = await client.patch(
        f"/api/v1/documents/{document_id}",
        json={"content": "😀😀 🎉 héllo wörld"},
        headers=team.editor.headers,
    )
    assert response.status_code == 200
    [thread] = await threads(client, team.viewer, document_id)
    assert (thread["anchor"]["from"], thread["anchor"]["to"]) == (11, 16)


async def test_anchors_survive_a_version_restore(client: httpx.AsyncClient, team: Team) -> None:
    document_id = await document_with(client, team, TEXT)
    url = f"/api/v1/documents/{document_id}"
    snapshot = await client.post(
        f"{url}/versions", json={"label": "before"}, headers=team.editor.headers
    )
    first_version = snapshot.json()["number"]
    await post_comment(client, team.commenter, document_id, anchor={"from": 35, "to": 43})
    changed = "Preface. " + TEXT.replace("quick", "slow")
    assert (
        await client.patch(url, json={"content": changed}, headers=team.editor.headers)
    ).status_code == 200
    [thread] = await threads(client, team.viewer, document_id)
    assert changed[thread["anchor"]["from"] : thread["anchor"]["to"]] == "lazy dog"

    restored = await client.post(
        f"{url}/versions/{first_version}/restore", headers=team.editor.headers
    )
    assert restored.status_code == 200 and restored.json()["content"] == TEXT
    [thread] = await threads(client, team.viewer, document_id)
    assert (thread["anchor"]["from"], thread["anchor"]["to"]) == (35, 43)
    assert not thread["anchor"]["orphaned"]


async def test_edit_delete_and_placeholders(client: httpx.AsyncClient, team: Team) -> None:
    document_id = await document_with(client, team, TEXT)
    first = await post_comment(client, team.commenter, document_id, "Typo here")
    reply = await post_comment(
        client, team.viewer, document_id, "x", parent_id=first["id"], expect=403
    )
    reply = await post_comment(client, team.editor, document_id, "Fixed", parent_id=first["id"])

    url = f"/api/v1/comments/{first['id']}"
    assert (
        await client.patch(url, json={"body": "No"}, headers=team.editor.headers)
    ).status_code == 403
    edited = await client.patch(
        url, json={"body": "Typo in line 1"}, headers=team.commenter.headers
    )
    assert edited.status_code == 200
    assert edited.json()["body"] == "Typo in line 1" and edited.json()["edited_at"] is not None

    # The editor is neither author nor admin; the author deletes, the thread stays for its reply.
    assert (await client.delete(url, headers=team.editor.headers)).status_code == 403
    assert (await client.delete(url, headers=team.commenter.headers)).status_code == 204
    [thread] = await threads(client, team.viewer, document_id)
    assert thread["deleted_at"] is not None and thread["body"] == ""
    assert [r["body"] for r in thread["replies"]] == ["Fixed"]

    # An admin removes the last reply: the placeholder has nothing left to hold.
    reply_url = f"/api/v1/comments/{reply['id']}"
    assert (await client.delete(reply_url, headers=team.admin.headers)).status_code == 204
    assert await threads(client, team.viewer, document_id) == []


async def test_resolve_and_reopen(client: httpx.AsyncClient, team: Team) -> None:
    document_id = await document_with(client, team, TEXT)
    first = await post_comment(client, team.commenter, document_id, "Done?")
    other = await post_comment(client, team.admin, document_id, "Another")
    reply = await post_comment(
        client, team.viewer, document_id, "no", parent_id=first["id"], expect=403
    )
    reply = await post_comment(client, team.admin, document_id, "Yes", parent_id=first["id"])

    # The thread's author resolves it through a reply's id too.
    response = await client.post(
        f"/api/v1/comments/{reply['id']}/resolve", headers=team.commenter.headers
    )
    assert response.status_code == 200
    assert response.json()["id"] == first["id"] and response.json()["resolved_at"] is not None
    assert response.json()["resolved_by"] == str(team.commenter.id)
    assert [t["id"] for t in await threads(client, team.viewer, document_id, "open")] == [
        other["id"]
    ]
    assert [t["id"] for t in await threads(client, team.viewer, document_id, "resolved")] == [
        first["id"]
    ]
    # Someone else's thread: a commenter may not, an editor may.
    url = f"/api/v1/comments/{other['id']}"
    assert (await client.post(f"{url}/resolve", headers=team.commenter.headers)).status_code == 403
    assert (await client.post(f"{url}/resolve", headers=team.editor.headers)).status_code == 200
    reopened = await client.post(f"{url}/reopen", headers=team.editor.headers)
    assert reopened.status_code == 200 and reopened.json()["resolved_at"] is None


async def test_reactions(client: httpx.AsyncClient, team: Team) -> None:
    document_id = await document_with(client, team, TEXT)
    comment = await post_comment(client, team.editor, document_id)
    url = f"/api/v1/comments/{comment['id']}/reactions"
    for user in (team.commenter, team.commenter, team.editor):
        response = await client.put(f"{url}/👍", headers=user.headers)
        assert response.status_code == 200
    response = await client.put(f"{url}/👩🏽‍💻", headers=team.commenter.headers)
    assert response.json()["reactions"] == [
        {"emoji": "👍", "count": 2, "me": True},
        {"emoji": "👩🏽‍💻", "count": 1, "me": True},
    ]
    assert (await client.put(f"{url}/👍", headers=team.viewer.headers)).status_code == 403
    response = await client.delete(f"{url}/👍", headers=team.commenter.headers)
    assert response.json()["reactions"] == [
        {"emoji": "👍", "count": 1, "me": False},
        {"emoji": "👩🏽‍💻", "count": 1, "me": True},
    ]
    for bad in ("a", "ok", "👍👍", "1", "%20"):
        response = await client.put(f"{url}/{bad}", headers=team.commenter.headers)
        assert response.status_code == 422, bad
    for good in ("🇫🇷", "❤️", "1️⃣"):
        assert (
            await client.put(f"{url}/{good}", headers=team.commenter.headers)
        ).status_code == 200


async def test_mentions_of_members_are_recorded(
    client: httpx.AsyncClient, team: Team, db: TestDatabase
) -> None:
    document_id = await document_with(client, team, TEXT)
    body = (
        f"@[Vera Viewer](user:{team.viewer.id}) and @[Otto](user:{team.outsider.id})"
        f" and @[Nobody](user:{uuid.uuid4()})"
    )
    comment = await post_comment(client, team.editor, document_id, body)
    engine = create_engine(db.url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            rows = await session.execute(
                select(CommentMention.user_id).where(
                    CommentMention.comment_id == uuid.UUID(comment["id"])
                )
            )
            assert set(rows.scalars()) == {team.viewer.id}
    finally:
        await engine.dispose()


async def test_comments_follow_their_document_to_the_trash_and_back(
    client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await document_with(client, team, TEXT)
    comment = await post_comment(client, team.editor, document_id, "Kept")
    url = f"/api/v1/documents/{document_id}"
    assert (await client.delete(url, headers=team.editor.headers)).status_code == 204
    listed = await client.get(f"{url}/comments", headers=team.owner.headers)
    assert listed.status_code == 404
    patched = await client.patch(
        f"/api/v1/comments/{comment['id']}", json={"body": "x"}, headers=team.editor.headers
    )
    assert patched.status_code == 404
    assert (await client.post(f"{url}/restore", headers=team.editor.headers)).status_code == 200
    assert [t["body"] for t in await threads(client, team.viewer, document_id)] == ["Kept"]

    assert (await client.delete(url, headers=team.editor.headers)).status_code == 204
    purged = await client.delete(url, params={"permanent": "true"}, headers=team.admin.headers)
    assert purged.status_code == 204
    gone = await client.delete(f"/api/v1/comments/{comment['id']}", headers=team.admin.headers)
    assert gone.status_code == 404
    # Outsiders never learn a comment exists.
    assert (await client.get(f"{url}/comments", headers=team.outsider.headers)).status_code == 404


async def test_comment_bodies_are_searchable_by_those_who_see_the_document(
    client: httpx.AsyncClient, team: Team
) -> None:
    document_id = await document_with(client, team, TEXT)
    await post_comment(client, team.commenter, document_id, "Check the <b>zebra</b> stripes")
    await post_comment(client, team.commenter, document_id, "Zebra crossing, not stripes")
    found = await client.get(
        "/api/v1/search", params={"q": "in:comments zebra -crossing"}, headers=team.viewer.headers
    )
    assert found.status_code == 200
    [hit] = found.json()["items"]
    assert hit["document_id"] == document_id and hit["comment_id"] is not None
    assert "<mark>zebra</mark>" in hit["snippet"] and "&lt;b&gt;" in hit["snippet"]
    flagged = await client.get(
        "/api/v1/search",
        params={"q": '"zebra crossing"', "in_comments": "true"},
        headers=team.viewer.headers,
    )
    assert len(flagged.json()["items"]) == 1
    # Documents alone do not hold the word; outsiders and trashed documents find nothing.
    plain = await client.get("/api/v1/search", params={"q": "zebra"}, headers=team.viewer.headers)
    assert plain.json()["items"] == []
    outsider = await client.get(
        "/api/v1/search", params={"q": "in:comments zebra"}, headers=team.outsider.headers
    )
    assert outsider.json()["items"] == []
    assert (
        await client.delete(f"/api/v1/documents/{document_id}", headers=team.editor.headers)
    ).status_code == 204
    trashed = await client.get(
        "/api/v1/search", params={"q": "in:comments zebra"}, headers=team.viewer.headers
    )
    assert trashed.json()["items"] == []


async def test_threads_come_in_pages_oldest_first(client: httpx.AsyncClient, team: Team) -> None:
    document_id = await document_with(client, team, TEXT)
    made = [(await post_comment(client, team.editor, document_id, f"n{i}"))["id"] for i in range(3)]
    url = f"/api/v1/documents/{document_id}/comments"
    first = await client.get(url, params={"limit": 2}, headers=team.viewer.headers)
    body = first.json()
    assert [t["id"] for t in body["items"]] == made[:2] and body["next_cursor"]
    second = await client.get(
        url, params={"limit": 2, "cursor": body["next_cursor"]}, headers=team.viewer.headers
    )
    assert [t["id"] for t in second.json()["items"]] == made[2:]
    assert second.json()["next_cursor"] is None
    bad = await client.get(url, params={"status": "closed"}, headers=team.viewer.headers)
    assert bad.status_code == 422
