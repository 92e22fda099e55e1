"""Notifications: the inbox, read state and settings are the caller's own (another person's
notification is 404); following takes a document the caller may read; the one-click
unsubscribe link is its own credential."""

from __future__ import annotations

from cowrite.notifications.mail.unsubscribe import unsubscribe_token
from tests.authz.cases import Case, Ctx, Target
from tests.conftest import TEST_SECRET
from tests.support.redis import eventually
from tests.support.workspaces import add_member

NOTIFICATIONS = "/api/v1/notifications"
SUBSCRIPTION = "/api/v1/documents/{document_id}/subscription"
SETTINGS = "/api/v1/users/me/notification-settings"


async def a_notification(ctx: Ctx) -> Target:
    """A notification of the actor: someone adds them to a workspace of their own."""
    inviter = await ctx.new_user()
    workspace = await ctx.json(
        "POST", "/api/v1/workspaces", json={"name": "Invites"}, as_user=inviter
    )
    await add_member(ctx.client, workspace["id"], inviter, ctx.actor, "viewer")
    found: list[str] = []

    async def delivered() -> bool:
        # Delivery runs off the request path: wait until it has made the notification.
        items = (await ctx.json("GET", NOTIFICATIONS))["items"]
        found[:] = [item["id"] for item in items if item["workspace_id"] == workspace["id"]]
        return bool(found)

    await eventually(delivered)
    return Target(path={"notification_id": found[0]})


async def a_document(ctx: Ctx) -> Target:
    url = f"/api/v1/workspaces/{ctx.workspace_id}/documents"
    document = await ctx.json("POST", url, json={"title": "Followed"})
    return Target(path={"document_id": document["id"]})


async def settings_change(ctx: Ctx) -> Target:
    return Target(json={"email": {"document_updated": True}, "email_delay_minutes": 10})


async def read_before(ctx: Ctx) -> Target:
    return Target(json={"before": "2020-01-01T00:00:00Z"})


async def unsubscribe_link(ctx: Ctx) -> Target:
    return Target(params={"token": unsubscribe_token(TEST_SECRET, ctx.actor.id, "mention")})


CASES = [
    Case("GET", NOTIFICATIONS, kind="user"),
    Case("GET", f"{NOTIFICATIONS}/unread-count", kind="user"),
    Case("POST", f"{NOTIFICATIONS}/read-all", kind="user", setup=read_before),
    Case("POST", f"{NOTIFICATIONS}/{{notification_id}}/read", kind="user", setup=a_notification),
    Case("GET", SUBSCRIPTION, setup=a_document),
    Case("PUT", SUBSCRIPTION, setup=a_document),
    Case("DELETE", SUBSCRIPTION, setup=a_document),
    Case("GET", SETTINGS, kind="user"),
    Case("PATCH", SETTINGS, kind="user", setup=settings_change),
    Case("GET", f"{NOTIFICATIONS}/unsubscribe", kind="public", setup=unsubscribe_link),
    Case("POST", f"{NOTIFICATIONS}/unsubscribe", kind="public", setup=unsubscribe_link),
]
