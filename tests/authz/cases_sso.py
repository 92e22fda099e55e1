"""Single sign-on routes are public: they are how someone signs in. The matrix app has no
provider configured, so starting or finishing a sign-on is 404 for everyone, and a made-up
hand-off code is 401 for everyone (tests/oidc covers them against a real provider)."""

from __future__ import annotations

from tests.authz.cases import Case, Ctx, Target


async def made_up_code(ctx: Ctx) -> Target:
    return Target(json={"code": "not-a-real-hand-off-code"})


async def callback_query(ctx: Ctx) -> Target:
    return Target(params={"code": "abc", "state": "xyz"})


CASES = [
    Case("GET", "/api/v1/auth/providers", kind="public"),
    Case("GET", "/api/v1/auth/oidc/login", kind="public", status=404),
    Case("GET", "/api/v1/auth/oidc/callback", kind="public", status=404, setup=callback_query),
    Case("POST", "/api/v1/auth/oidc/exchange", kind="public", status=401, setup=made_up_code),
]
