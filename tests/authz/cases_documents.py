"""Documents, tags, the trash, version history and search."""

from __future__ import annotations

from cowrite.workspaces.roles import Role
from tests.authz.cases import Case, Ctx, Target

DOCS = "/api/v1/workspaces/{workspace_id}/documents"
DOC = "/api/v1/documents/{document_id}"
VERSIONS = f"{DOC}/versions"


async def _document(ctx: Ctx, title: str = "Matrix doc") -> str:
    """A document of workspace A with two versions, made for this caller alone."""
    url = f"/api/v1/workspaces/{ctx.workspace_id}/documents"
    document = await ctx.json("POST", url, json={"title": title, "content": "one\n"})
    await ctx.call("POST", f"/api/v1/documents/{document['id']}/versions", json={"label": "v"})
    document_id: str = document["id"]
    return document_id


async def new_document(ctx: Ctx) -> Target:
    return Target(json={"title": "New", "content": "text", "tags": ["matrix"]})


async def a_document(ctx: Ctx) -> Target:
    return Target(path={"document_id": await _document(ctx)})


async def an_edit(ctx: Ctx) -> Target:
    return Target(path={"document_id": await _document(ctx)}, json={"content": "two\n"})


async def a_snapshot(ctx: Ctx) -> Target:
    return Target(path={"document_id": await _document(ctx)}, json={"label": "Checkpoint"})


async def version_one(ctx: Ctx) -> Target:
    return Target(path={"document_id": await _document(ctx), "number": "1"})


async def diff_one_two(ctx: Ctx) -> Target:
    target = await version_one(ctx)
    return Target(path=target.path, params={"against": "2"})


async def trashed_by_owner(ctx: Ctx) -> Target:
    document_id = await _document(ctx)
    await ctx.call("DELETE", f"/api/v1/documents/{document_id}")
    return Target(path={"document_id": document_id})


async def trashed_for_good(ctx: Ctx) -> Target:
    target = await trashed_by_owner(ctx)
    return Target(path=target.path, params={"permanent": "true"})


async def trashed_by_caller(ctx: Ctx) -> Target:
    """Trashed by the caller when they may trash (editor and up), else by the owner."""
    document_id = await _document(ctx)
    may_trash = ctx.caller_name in ("editor", "admin", "owner")
    as_user = ctx.caller if may_trash else None
    await ctx.call("DELETE", f"/api/v1/documents/{document_id}", as_user=as_user)
    return Target(path={"document_id": document_id})


async def search_in_a(ctx: Ctx) -> Target:
    return Target(params={"q": "one", "workspace_id": ctx.workspace_id})


async def search_everywhere(ctx: Ctx) -> Target:
    return Target(params={"q": 'one OR "two three" -four'})


CASES = [
    Case("POST", DOCS, minimum=Role.EDITOR, status=201, setup=new_document),
    Case("GET", DOCS),
    Case("GET", "/api/v1/workspaces/{workspace_id}/tags"),
    Case("GET", DOC, setup=a_document),
    Case("PATCH", DOC, minimum=Role.EDITOR, setup=an_edit),
    Case("DELETE", DOC, minimum=Role.EDITOR, status=204, setup=a_document),
    Case("DELETE", DOC, name="permanent", minimum=Role.ADMIN, status=204, setup=trashed_for_good),
    # Restoring what someone else trashed takes an admin; one's own, an editor.
    Case("POST", f"{DOC}/restore", minimum=Role.ADMIN, setup=trashed_by_owner),
    Case("POST", f"{DOC}/restore", name="own", minimum=Role.EDITOR, setup=trashed_by_caller),
    Case("GET", VERSIONS, setup=a_document),
    Case("POST", VERSIONS, minimum=Role.EDITOR, status=201, setup=a_snapshot),
    Case("GET", f"{VERSIONS}/{{number}}", setup=version_one),
    Case("GET", f"{VERSIONS}/{{number}}/diff", setup=diff_one_two),
    Case("POST", f"{VERSIONS}/{{number}}/restore", minimum=Role.EDITOR, setup=version_one),
    Case("GET", "/api/v1/search", kind="user", setup=search_everywhere),
    Case("GET", "/api/v1/search", name="one workspace", setup=search_in_a),
]
