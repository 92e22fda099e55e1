"""File attachments: upload (editor+), read (viewer+), delete (the uploader or an admin)."""

from __future__ import annotations

from cowrite.workspaces.roles import Role
from tests.authz.cases import Case, Ctx, Target

FILES = "/api/v1/workspaces/{workspace_id}/files"
FILE = "/api/v1/files/{file_id}"
UPLOAD = {"file": ("notes.txt", b"matrix", "text/plain")}


async def a_file(ctx: Ctx) -> Target:
    """A file of workspace A uploaded by its owner."""
    url = f"/api/v1/workspaces/{ctx.workspace_id}/files"
    stored = await ctx.json("POST", url, files=UPLOAD)
    return Target(path={"file_id": stored["id"]})


async def own_file(ctx: Ctx) -> Target:
    """A file the caller uploaded themself, when their role lets them upload."""
    uploader = ctx.caller if ctx.caller_name in ("editor", "admin", "owner") else ctx.actor
    url = f"/api/v1/workspaces/{ctx.workspace_id}/files"
    stored = await ctx.json("POST", url, files=UPLOAD, as_user=uploader)
    return Target(path={"file_id": stored["id"]})


async def new_upload(ctx: Ctx) -> Target:
    return Target(files=UPLOAD)


async def _document_of_b(ctx: Ctx) -> str:
    url = f"/api/v1/workspaces/{ctx.other_workspace_id}/documents"
    document = await ctx.json("POST", url, json={"title": "In B"})
    document_id: str = document["id"]
    return document_id


async def upload_to_a_document_of_b(ctx: Ctx) -> Target:
    return Target(files=UPLOAD, data={"document_id": await _document_of_b(ctx)})


async def list_a_by_a_document_of_b(ctx: Ctx) -> Target:
    return Target(params={"document_id": await _document_of_b(ctx)})


CASES = [
    Case(
        "POST",
        FILES,
        minimum=Role.EDITOR,
        status=201,
        setup=new_upload,
        mixed=upload_to_a_document_of_b,
    ),
    Case("GET", FILES, mixed=list_a_by_a_document_of_b),
    Case("GET", FILE, setup=a_file),
    Case("GET", f"{FILE}/content", setup=a_file),
    Case("DELETE", FILE, name="another's file", minimum=Role.ADMIN, status=204, setup=a_file),
    Case("DELETE", FILE, name="own file", minimum=Role.EDITOR, status=204, setup=own_file),
]
