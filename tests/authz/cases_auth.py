"""Accounts: the sign-in routes are public; /users/me... are about the caller alone."""

from __future__ import annotations

from tests.authz.cases import Case, Ctx, Target
from tests.support.factories import PASSWORD, unique_email


async def registration(ctx: Ctx) -> Target:
    return Target(json={"email": unique_email("matrix"), "password": PASSWORD, "full_name": "M"})


async def credentials(ctx: Ctx) -> Target:
    return Target(json={"email": ctx.actor.email, "password": PASSWORD})


async def fresh_refresh_token(ctx: Ctx) -> Target:
    """A login of its own, so ending or rotating it leaves the caller's token alone."""
    tokens = await ctx.new_login()
    return Target(json={"refresh_token": tokens["refresh_token"]})


async def profile(ctx: Ctx) -> Target:
    return Target(json={"full_name": "Renamed In Matrix"})


async def same_password(ctx: Ctx) -> Target:
    return Target(json={"current_password": PASSWORD, "new_password": PASSWORD})


async def fresh_login(ctx: Ctx) -> Target:
    """A login of the actor to revoke: the caller's own, or someone else's for the foreign call."""
    tokens = await ctx.new_login()
    return Target(path={"login_id": tokens["login_id"]})


CASES = [
    Case("POST", "/api/v1/auth/register", kind="public", status=201, setup=registration),
    Case("POST", "/api/v1/auth/login", kind="public", setup=credentials),
    Case("POST", "/api/v1/auth/refresh", kind="public", setup=fresh_refresh_token),
    Case("POST", "/api/v1/auth/logout", kind="public", status=204, setup=fresh_refresh_token),
    Case("GET", "/api/v1/users/me", kind="user"),
    Case("PATCH", "/api/v1/users/me", kind="user", setup=profile),
    Case("POST", "/api/v1/users/me/password", kind="user", status=204, setup=same_password),
    Case("GET", "/api/v1/users/me/sessions", kind="user"),
    Case("GET", "/api/v1/users/me/shared-documents", kind="user"),
    Case(
        "DELETE",
        "/api/v1/users/me/sessions/{login_id}",
        kind="user",
        status=204,
        setup=fresh_login,
    ),
]
