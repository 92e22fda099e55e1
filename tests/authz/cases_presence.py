"""Presence: who is in a document (the `/ws` socket has its own matrix in tests/presence)."""

from __future__ import annotations

from tests.authz.cases import Case, Ctx, Target


async def a_document(ctx: Ctx) -> Target:
    url = f"/api/v1/workspaces/{ctx.workspace_id}/documents"
    document = await ctx.json("POST", url, json={"title": "Presence matrix"})
    return Target(path={"document_id": document["id"]})


CASES = [
    Case("GET", "/api/v1/presence/document/{document_id}", setup=a_document),
]
