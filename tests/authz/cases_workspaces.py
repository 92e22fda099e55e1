"""Workspaces, members and ownership."""

from __future__ import annotations

from cowrite.workspaces.roles import Role
from tests.authz.cases import Case, Ctx, Target

WS = "/api/v1/workspaces/{workspace_id}"


async def new_workspace(ctx: Ctx) -> Target:
    return Target(json={"name": "Made in the matrix"})


async def rename(ctx: Ctx) -> Target:
    return Target(json={"name": "Workspace A"})


async def disposable_workspace(ctx: Ctx) -> Target:
    """A copy of workspace A (same people, same roles) that the call may delete or give away."""
    return Target(path={"workspace_id": await ctx.new_team_workspace()})


async def newcomer(ctx: Ctx) -> Target:
    user = await ctx.new_user()
    return Target(json={"email": user.email, "role": "viewer"})


async def promote_a_viewer(ctx: Ctx) -> Target:
    member = await ctx.new_member("viewer")
    return Target(path={"user_id": str(member.id)}, json={"role": "editor"})


async def a_viewer(ctx: Ctx) -> Target:
    member = await ctx.new_member("viewer")
    return Target(path={"user_id": str(member.id)})


async def leave(ctx: Ctx) -> Target:
    """The caller removes themself from a copy of workspace A."""
    workspace_id = await ctx.new_team_workspace()
    user_id = ctx.caller.id if ctx.caller else ctx.team.viewer.id
    return Target(path={"workspace_id": workspace_id, "user_id": str(user_id)})


async def hand_over(ctx: Ctx) -> Target:
    workspace_id = await ctx.new_team_workspace()
    return Target(path={"workspace_id": workspace_id}, json={"user_id": str(ctx.team.admin.id)})


async def member_of_b_only(ctx: Ctx) -> Target:
    """Workspace A's id with the id of a member of workspace B who is not in A."""
    member = await ctx.new_member("viewer", workspace_id=ctx.other_workspace_id)
    return Target(path={"user_id": str(member.id)}, json={"role": "editor"})


async def hand_over_to_b(ctx: Ctx) -> Target:
    member = await ctx.new_member("editor", workspace_id=ctx.other_workspace_id)
    return Target(json={"user_id": str(member.id)})


CASES = [
    Case("POST", "/api/v1/workspaces", kind="user", status=201, setup=new_workspace),
    Case("GET", "/api/v1/workspaces", kind="user"),
    Case("POST", "/api/v1/workspaces/", kind="user", status=201, setup=new_workspace),
    Case("GET", "/api/v1/workspaces/", kind="user"),
    Case("GET", WS),
    Case("PATCH", WS, minimum=Role.ADMIN, setup=rename),
    Case("DELETE", WS, minimum=Role.OWNER, status=204, setup=disposable_workspace),
    Case("GET", f"{WS}/members"),
    Case("POST", f"{WS}/members", minimum=Role.ADMIN, status=201, setup=newcomer),
    Case(
        "PATCH",
        f"{WS}/members/{{user_id}}",
        minimum=Role.ADMIN,
        setup=promote_a_viewer,
        mixed=member_of_b_only,
    ),
    Case(
        "DELETE",
        f"{WS}/members/{{user_id}}",
        minimum=Role.ADMIN,
        status=204,
        setup=a_viewer,
        mixed=member_of_b_only,
    ),
    Case(
        "DELETE",
        f"{WS}/members/{{user_id}}",
        name="leave",
        status=204,
        setup=leave,
        overrides={"owner": 409},  # the last owner cannot leave
    ),
    Case(
        "POST",
        f"{WS}/transfer-ownership",
        minimum=Role.OWNER,
        setup=hand_over,
        mixed=hand_over_to_b,
    ),
]
