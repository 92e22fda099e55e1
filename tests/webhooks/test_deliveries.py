"""Webhooks end to end over a real local receiver: events of the contract arrive signed, once
per change (updates at most once a minute), are retried with the same delivery id, and a
receiver that is gone or keeps failing turns its webhook off."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import make_user
from tests.support.receiver import HANG, Receiver
from tests.support.redis import eventually
from tests.support.workspaces import Team, add_member
from tests.webhooks.conftest import add_webhook

DOCUMENT_EVENTS = ["document.created", "document.updated", "document.deleted", "document.restored"]


async def deliveries(client: httpx.AsyncClient, team: Team, hook_id: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/v1/webhooks/{hook_id}/deliveries", headers=team.admin.headers
    )
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()
    return rows


async def turn_off_notices(client: httpx.AsyncClient, who: Any) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/notifications", headers=who.headers)
    assert response.status_code == 200, response.text
    return [n for n in response.json()["items"] if n["kind"] == "webhook_turned_off"]


async def assert_admins_told(client: httpx.AsyncClient, team: Team, words: str) -> None:
    """The workspace's owner and admin each get one notice naming the receiver and why; the
    other members get none."""

    async def both_told() -> bool:
        return all(
            [await turn_off_notices(client, team.owner), await turn_off_notices(client, team.admin)]
        )

    await eventually(both_told)
    for admin in (team.owner, team.admin):
        [notice] = await turn_off_notices(client, admin)
        assert notice["workspace_id"] == team.workspace_id
        assert notice["actor"] is None and notice["read_at"] is None
        assert "/hook" in notice["excerpt"] and words in notice["excerpt"]
    for member in (team.editor, team.viewer, team.commenter):
        assert await turn_off_notices(client, member) == []


async def test_document_events_arrive_signed_once_per_change(
    client: httpx.AsyncClient, team: Team, receiver: Receiver
) -> None:
    hook = await add_webhook(client, team, receiver.url(), DOCUMENT_EVENTS)
    assert hook["secret"].startswith("whsec_") and hook["active"] is True
    listed = await client.get(
        f"/api/v1/workspaces/{team.workspace_id}/webhooks", headers=team.admin.headers
    )
    assert [item["id"] for item in listed.json()] == [hook["id"]]
    assert "secret" not in listed.json()[0]

    headers = team.editor.headers
    created = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={"title": "Plan", "content": "one"},
        headers=headers,
    )
    document_id = created.json()["id"]
    for content in ("two", "three"):  # the second update falls in the same minute
        response = await client.patch(
            f"/api/v1/documents/{document_id}", json={"content": content}, headers=headers
        )
        assert response.status_code == 200
    trashed = await client.delete(f"/api/v1/documents/{document_id}", headers=headers)
    assert trashed.status_code == 204
    restored = await client.post(
        f"/api/v1/documents/{document_id}/restore", headers=team.admin.headers
    )
    assert restored.status_code == 200

    requests = await receiver.wait_count(4)
    events = sorted(request.event for request in requests)
    assert events == sorted(DOCUMENT_EVENTS)
    for request in requests:
        assert request.method == "POST" and request.path == "/hook"
        assert request.signed_by(hook["secret"])
        assert not request.signed_by("whsec_someone-else")
        body = request.json
        assert body["id"] == request.delivery_id
        assert body["event"] == request.event
        assert body["workspace_id"] == team.workspace_id
        assert body["data"]["document_id"] == document_id
        assert body["created_at"].endswith("Z")
    updated = next(r for r in requests if r.event == "document.updated")
    assert updated.json["data"]["actor_id"] == str(team.editor.id)

    async def all_delivered() -> bool:
        rows = await deliveries(client, team, hook["id"])
        return len(rows) == 4 and all(row["status"] == "delivered" for row in rows)

    await eventually(all_delivered)
    rows = await deliveries(client, team, hook["id"])
    assert {row["status_code"] for row in rows} == {200}
    assert {row["id"] for row in rows} == {r.delivery_id for r in requests}
    assert len(receiver.requests) == 4  # nothing else came


async def test_member_events_and_subscriptions(
    client: httpx.AsyncClient, team: Team, receiver: Receiver
) -> None:
    hook = await add_webhook(client, team, receiver.url(), ["member.added", "member.removed"])
    newcomer = await make_user(client, full_name="Nia Newcomer")
    await add_member(client, team.workspace_id, team.admin, newcomer, "editor")
    left = await client.delete(
        f"/api/v1/workspaces/{team.workspace_id}/members/{newcomer.id}", headers=newcomer.headers
    )
    assert left.status_code == 204
    # Not subscribed: a document event sends nothing to this webhook.
    await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={"title": "Quiet"},
        headers=team.editor.headers,
    )
    requests = await receiver.wait_count(2)
    assert [r.event for r in requests] == ["member.added", "member.removed"]
    added = requests[0].json["data"]
    assert added["user_id"] == str(newcomer.id) and added["role"] == "editor"
    assert added["email"] == newcomer.email
    assert requests[1].json["data"]["actor_id"] == str(newcomer.id)
    assert all(r.signed_by(hook["secret"]) for r in requests)
    rows = await deliveries(client, team, hook["id"])
    assert len(rows) == 2


async def test_failures_are_retried_with_the_same_delivery_id(
    client: httpx.AsyncClient, team: Team, receiver: Receiver
) -> None:
    answers = iter([500, 503])
    receiver.answer = lambda _request: next(answers, 200)
    hook = await add_webhook(client, team, receiver.url(), ["document.created"])
    await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={"title": "Retry me"},
        headers=team.editor.headers,
    )
    requests = await receiver.wait_count(3)
    assert len({r.delivery_id for r in requests}) == 1
    assert len({r.body for r in requests}) == 1  # the same payload on every attempt
    assert all(r.signed_by(hook["secret"]) for r in requests)

    async def delivered() -> bool:
        rows = await deliveries(client, team, hook["id"])
        return rows[0]["status"] == "delivered"

    await eventually(delivered)
    [row] = await deliveries(client, team, hook["id"])
    assert row["attempt"] == 3 and row["status_code"] == 200 and row["delivered_at"]


async def test_a_410_turns_the_webhook_off_at_once(
    client: httpx.AsyncClient, team: Team, receiver: Receiver
) -> None:
    receiver.answer = lambda _request: 410
    hook = await add_webhook(client, team, receiver.url(), ["document.created"])
    url = f"/api/v1/workspaces/{team.workspace_id}/documents"
    await client.post(url, json={"title": "Gone"}, headers=team.editor.headers)
    await receiver.wait_count(1)

    async def turned_off() -> bool:
        response = await client.get(f"/api/v1/webhooks/{hook['id']}", headers=team.admin.headers)
        return response.json()["active"] is False

    await eventually(turned_off)
    [row] = await deliveries(client, team, hook["id"])
    assert row["status"] == "failed" and row["status_code"] == 410 and row["attempt"] == 1
    await assert_admins_told(client, team, "410 Gone")
    # Turned off: later events queue nothing, and a test event is refused.
    await client.post(url, json={"title": "After"}, headers=team.editor.headers)
    assert len(await deliveries(client, team, hook["id"])) == 1
    test = await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=team.admin.headers)
    assert test.status_code == 409
    # Turned back on, it works again.
    on = await client.patch(
        f"/api/v1/webhooks/{hook['id']}", json={"active": True}, headers=team.admin.headers
    )
    assert on.json()["active"] is True and on.json()["disabled_reason"] is None
    receiver.answer = lambda _request: 200
    test = await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=team.admin.headers)
    assert test.status_code == 202
    [*_, last] = await receiver.wait_count(2)
    assert last.event == "webhook.test" and last.delivery_id == test.json()["id"]


async def test_retries_that_run_out_turn_the_webhook_off(
    app: Any, client: httpx.AsyncClient, team: Team, receiver: Receiver
) -> None:
    app.state.cowrite.settings.webhooks_retry_for_seconds = 1.0
    receiver.answer = lambda _request: 500
    hook = await add_webhook(client, team, receiver.url(), ["document.created"])
    await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={"title": "Doomed"},
        headers=team.editor.headers,
    )

    async def turned_off() -> bool:
        response = await client.get(f"/api/v1/webhooks/{hook['id']}", headers=team.admin.headers)
        return response.json()["active"] is False

    await eventually(turned_off)
    [row] = await deliveries(client, team, hook["id"])
    assert row["status"] == "failed" and row["attempt"] >= 2 and row["status_code"] == 500
    hooks = await client.get(
        f"/api/v1/workspaces/{team.workspace_id}/webhooks", headers=team.admin.headers
    )
    assert "retries ran out" in hooks.json()[0]["disabled_reason"]
    await assert_admins_told(client, team, "retries ran out")
    assert len({r.delivery_id for r in receiver.requests}) == 1


async def test_a_hanging_receiver_times_out_without_holding_up_others(
    client: httpx.AsyncClient, team: Team, receiver: Receiver
) -> None:
    receiver.answer = lambda request: HANG if request.path == "/slow" else 200
    slow = await add_webhook(client, team, receiver.url("/slow"), ["document.created"])
    fast = await add_webhook(client, team, receiver.url("/fast"), ["document.created"])
    await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={"title": "Both"},
        headers=team.editor.headers,
    )
    [fast_request] = await receiver.wait_count(1, path="/fast")
    assert fast_request.signed_by(fast["secret"])
    # The slow receiver times out and is asked again with the same delivery.
    slow_requests = await receiver.wait_count(2, path="/slow")
    assert slow_requests[0].delivery_id == slow_requests[1].delivery_id

    async def timed_out() -> bool:
        rows = await deliveries(client, team, slow["id"])
        return rows[0]["attempt"] >= 1 and "in time" in (rows[0]["error"] or "")

    await eventually(timed_out)


async def test_a_rolled_back_change_sends_nothing(
    client: httpx.AsyncClient, team: Team, receiver: Receiver
) -> None:
    hook = await add_webhook(client, team, receiver.url(), ["document.updated", "document.created"])
    created = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={"title": "Base"},
        headers=team.editor.headers,
    )
    document_id = created.json()["id"]
    await receiver.wait_count(1)
    stale = await client.patch(
        f"/api/v1/documents/{document_id}",
        json={"title": "Stale", "base_version": 99},
        headers=team.editor.headers,
    )
    assert stale.status_code == 409
    test = await client.post(f"/api/v1/webhooks/{hook['id']}/test", headers=team.admin.headers)
    await receiver.wait_count(2)
    assert [r.event for r in receiver.requests] == ["document.created", "webhook.test"]
    assert receiver.requests[1].delivery_id == test.json()["id"]
