"""Exports, imports and jobs: document export (viewer+), workspace export (admin+), import
(editor+); a job is seen only by the person who started it (anyone else: 404)."""

from __future__ import annotations

from cowrite.workspaces.roles import Role
from tests.authz.cases import Case, Ctx, Target
from tests.support.transfer import wait_for_job

JOB = "/api/v1/jobs/{job_id}"
NOTE = {"file": ("note.md", b"# Matrix\n", "text/markdown")}


async def a_document(ctx: Ctx) -> Target:
    url = f"/api/v1/workspaces/{ctx.workspace_id}/documents"
    document = await ctx.json("POST", url, json={"title": "Exported", "content": "text"})
    return Target(path={"document_id": document["id"]}, params={"format": "html"})


async def an_upload(ctx: Ctx) -> Target:
    return Target(files=NOTE)


async def a_finished_job(ctx: Ctx) -> Target:
    """An import job of workspace A, started (and awaited) by the caller when their role lets
    them import, else by the workspace owner."""
    starter = ctx.caller if ctx.caller_name in ("editor", "admin", "owner") else ctx.actor
    assert starter is not None
    url = f"/api/v1/workspaces/{ctx.workspace_id}/imports"
    job = await ctx.json("POST", url, files=NOTE, as_user=starter)
    await wait_for_job(ctx.client, starter, job["job_id"])
    return Target(path={"job_id": job["job_id"]})


ONLY_ITS_CREATOR = {"viewer": 404, "commenter": 404}

CASES = [
    Case("GET", "/api/v1/documents/{document_id}/export", setup=a_document),
    Case("POST", "/api/v1/workspaces/{workspace_id}/exports", minimum=Role.ADMIN, status=202),
    Case(
        "POST",
        "/api/v1/workspaces/{workspace_id}/imports",
        minimum=Role.EDITOR,
        status=202,
        setup=an_upload,
    ),
    Case("GET", JOB, minimum=Role.EDITOR, setup=a_finished_job, overrides=ONLY_ITS_CREATOR),
    Case(
        "GET",
        f"{JOB}/result",
        minimum=Role.EDITOR,
        setup=a_finished_job,
        overrides=ONLY_ITS_CREATOR,
    ),
]
