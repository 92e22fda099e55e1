"""Restricted documents: their visibility, the people listed on them, files attached to them.
Managing who is listed takes an editor on the document; anyone listed may take themself off."""

from __future__ import annotations

from cowrite.workspaces.roles import Role
from tests.authz.cases import Case, Ctx, Target

DOC = "/api/v1/documents/{document_id}"
MEMBERS = f"{DOC}/members"
MEMBER = f"{MEMBERS}/{{user_id}}"
WORKSPACE_ROLES = ("viewer", "commenter", "editor", "admin", "owner")


async def _document(ctx: Ctx, workspace_id: str | None = None) -> str:
    url = f"/api/v1/workspaces/{workspace_id or ctx.workspace_id}/documents"
    document = await ctx.json("POST", url, json={"title": "Access matrix", "content": "text"})
    document_id: str = document["id"]
    return document_id


async def _listed(ctx: Ctx, document_id: str) -> str:
    """A new person (a guest) listed on the document as a viewer; their id."""
    guest = await ctx.new_user()
    await ctx.call(
        "POST",
        f"/api/v1/documents/{document_id}/members",
        json={"email": guest.email, "role": "viewer"},
    )
    return str(guest.id)


async def a_document(ctx: Ctx) -> Target:
    document_id = await _document(ctx)
    await _listed(ctx, document_id)
    return Target(path={"document_id": document_id})


async def restrict(ctx: Ctx) -> Target:
    return Target(path={"document_id": await _document(ctx)}, json={"visibility": "restricted"})


async def a_new_person(ctx: Ctx) -> Target:
    guest = await ctx.new_user()
    return Target(
        path={"document_id": await _document(ctx)}, json={"email": guest.email, "role": "viewer"}
    )


async def a_listed_person(ctx: Ctx) -> Target:
    document_id = await _document(ctx)
    user_id = await _listed(ctx, document_id)
    return Target(path={"document_id": document_id, "user_id": user_id}, json={"role": "editor"})


async def listed_on_b_only(ctx: Ctx) -> Target:
    """A document of A, and a person listed on a document of B only."""
    document_b = await _document(ctx, ctx.other_workspace_id)
    user_id = await _listed(ctx, document_b)
    path = {"document_id": await _document(ctx), "user_id": user_id}
    return Target(path=path, json={"role": "editor"})


async def the_caller_listed(ctx: Ctx) -> Target:
    """The caller, when a member of workspace A, listed on a document they then leave."""
    document_id = await _document(ctx)
    caller = ctx.caller
    members = f"/api/v1/documents/{document_id}/members"
    if caller is not None and ctx.caller_name in WORKSPACE_ROLES:
        listed = {person["user_id"] for person in await ctx.json("GET", members)}
        if str(caller.id) not in listed:
            body = {"user_id": str(caller.id), "role": "viewer"}
            await ctx.call("POST", members, json=body)
    user_id = str(caller.id) if caller is not None else str(ctx.actor.id)
    return Target(path={"document_id": document_id, "user_id": user_id})


async def an_attached_file(ctx: Ctx) -> Target:
    """A file attached to a document (seen by whoever sees the document)."""
    document_id = await _document(ctx)
    url = f"/api/v1/workspaces/{ctx.workspace_id}/files"
    upload = {"file": ("notes.txt", b"matrix", "text/plain")}
    stored = await ctx.json("POST", url, files=upload, data={"document_id": document_id})
    return Target(path={"file_id": stored["id"]})


CASES = [
    Case("PATCH", DOC, name="visibility", minimum=Role.EDITOR, setup=restrict),
    Case("GET", MEMBERS, setup=a_document),
    Case("POST", MEMBERS, minimum=Role.EDITOR, status=201, setup=a_new_person),
    Case("PATCH", MEMBER, minimum=Role.EDITOR, setup=a_listed_person, mixed=listed_on_b_only),
    Case(
        "DELETE",
        MEMBER,
        minimum=Role.EDITOR,
        status=204,
        setup=a_listed_person,
        mixed=listed_on_b_only,
    ),
    Case("DELETE", MEMBER, name="leave", status=204, setup=the_caller_listed),
    Case("GET", "/api/v1/files/{file_id}", name="attached", setup=an_attached_file),
]
