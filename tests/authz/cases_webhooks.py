"""Webhooks: every route is for admins and owners of the webhook's workspace."""

from __future__ import annotations

from cowrite.workspaces.roles import Role
from tests.authz.cases import Case, Ctx, Target

HOOKS = "/api/v1/workspaces/{workspace_id}/webhooks"
HOOK = "/api/v1/webhooks/{webhook_id}"
# A public address given literally: registering it needs no DNS; nothing listens for it.
URL = "https://93.184.215.14/matrix"


async def new_webhook(ctx: Ctx) -> Target:
    return Target(json={"url": URL, "events": ["document.created"]})


async def a_webhook(ctx: Ctx) -> Target:
    """A webhook of workspace A registered by its owner."""
    url = f"/api/v1/workspaces/{ctx.workspace_id}/webhooks"
    hook = await ctx.json("POST", url, json={"url": URL, "events": ["document.created"]})
    return Target(path={"webhook_id": hook["id"]})


async def a_webhook_to_change(ctx: Ctx) -> Target:
    target = await a_webhook(ctx)
    return Target(path=target.path, json={"events": ["document.created", "member.added"]})


CASES = [
    Case("POST", HOOKS, minimum=Role.ADMIN, status=201, setup=new_webhook),
    Case("GET", HOOKS, minimum=Role.ADMIN),
    Case("GET", HOOK, minimum=Role.ADMIN, setup=a_webhook),
    Case("PATCH", HOOK, minimum=Role.ADMIN, setup=a_webhook_to_change),
    Case("DELETE", HOOK, minimum=Role.ADMIN, status=204, setup=a_webhook),
    Case("GET", f"{HOOK}/deliveries", minimum=Role.ADMIN, setup=a_webhook),
    Case("POST", f"{HOOK}/test", minimum=Role.ADMIN, status=202, setup=a_webhook),
]
