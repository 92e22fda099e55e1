"""Share links (editors and up manage them; anyone with the token reads) and personal API
tokens (each person's own)."""

from __future__ import annotations

from cowrite.workspaces.roles import Role
from tests.authz.cases import Case, Ctx, Target

SHARES = "/api/v1/documents/{document_id}/shares"
SHARE = "/api/v1/shares/{share_id}"
SHARED = "/api/v1/shared/{token}"
TOKENS = "/api/v1/users/me/tokens"


async def _document(ctx: Ctx) -> str:
    url = f"/api/v1/workspaces/{ctx.workspace_id}/documents"
    document = await ctx.json("POST", url, json={"title": "Shared"}, as_user=ctx.team.owner)
    document_id: str = document["id"]
    return document_id


async def a_document(ctx: Ctx) -> Target:
    return Target(path={"document_id": await _document(ctx)}, json={})


async def a_link(ctx: Ctx) -> Target:
    document_id = await _document(ctx)
    link = await ctx.json(
        "POST", f"/api/v1/documents/{document_id}/shares", json={}, as_user=ctx.team.owner
    )
    return Target(path={"share_id": link["id"], "token": link["token"]})


async def a_locked_link(ctx: Ctx) -> Target:
    document_id = await _document(ctx)
    link = await ctx.json(
        "POST",
        f"/api/v1/documents/{document_id}/shares",
        json={"password": "open sesame"},
        as_user=ctx.team.owner,
    )
    return Target(path={"token": link["token"]}, json={"password": "open sesame"})


async def new_token(ctx: Ctx) -> Target:
    return Target(json={"name": "script"})


async def a_token(ctx: Ctx) -> Target:
    token = await ctx.json("POST", TOKENS, json={"name": "script"})
    return Target(path={"token_id": token["id"]})


CASES = [
    Case("POST", SHARES, minimum=Role.EDITOR, status=201, setup=a_document),
    Case("GET", SHARES, minimum=Role.EDITOR, setup=a_document),
    Case("DELETE", SHARE, minimum=Role.EDITOR, status=204, setup=a_link),
    Case("GET", SHARED, kind="public", setup=a_link),
    Case("POST", f"{SHARED}/unlock", kind="public", setup=a_locked_link),
    Case("POST", TOKENS, kind="user", status=201, setup=new_token),
    Case("GET", TOKENS, kind="user"),
    Case("DELETE", f"{TOKENS}/{{token_id}}", kind="user", status=204, setup=a_token),
]
