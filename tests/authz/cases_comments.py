"""Comments: read with the document (viewer+); comment and react as a commenter; edit one's
own; delete one's own or as an admin; resolve one's own thread or as an editor."""

from __future__ import annotations

from cowrite.workspaces.roles import Role
from tests.authz.cases import Case, Ctx, Target

COMMENTS = "/api/v1/documents/{document_id}/comments"
COMMENT = "/api/v1/comments/{comment_id}"
MAY_COMMENT = ("commenter", "editor", "admin", "owner")


async def _document(ctx: Ctx, workspace_id: str | None = None) -> str:
    url = f"/api/v1/workspaces/{workspace_id or ctx.workspace_id}/documents"
    document = await ctx.json("POST", url, json={"title": "Commented", "content": "Some text."})
    document_id: str = document["id"]
    return document_id


async def _comment(ctx: Ctx, *, by_caller: bool = False) -> tuple[str, str]:
    """(document id, comment id); the comment is the caller's when `by_caller` and their role
    lets them comment, else the owner's."""
    document_id = await _document(ctx)
    author = ctx.caller if by_caller and ctx.caller_name in MAY_COMMENT else None
    comment = await ctx.json(
        "POST",
        f"/api/v1/documents/{document_id}/comments",
        json={"body": "Look", "anchor": {"from": 0, "to": 4}},
        as_user=author,
    )
    return document_id, comment["id"]


async def a_document(ctx: Ctx) -> Target:
    document_id, _ = await _comment(ctx)
    return Target(path={"document_id": document_id})


async def new_comment(ctx: Ctx) -> Target:
    return Target(
        path={"document_id": await _document(ctx)},
        json={"body": "Hello", "anchor": {"from": 5, "to": 9}},
    )


async def reply_to_a_thread_of_b(ctx: Ctx) -> Target:
    """A reply in a document of A naming a thread of a document in B."""
    document_b = await _document(ctx, ctx.other_workspace_id)
    thread = await ctx.json(
        "POST", f"/api/v1/documents/{document_b}/comments", json={"body": "In B"}
    )
    return Target(
        path={"document_id": await _document(ctx)},
        json={"body": "Reply", "parent_id": thread["id"]},
    )


async def owners_comment(ctx: Ctx) -> Target:
    _, comment_id = await _comment(ctx)
    return Target(path={"comment_id": comment_id})


async def own_comment(ctx: Ctx) -> Target:
    _, comment_id = await _comment(ctx, by_caller=True)
    return Target(path={"comment_id": comment_id})


async def own_edit(ctx: Ctx) -> Target:
    target = await own_comment(ctx)
    return Target(path=target.path, json={"body": "Edited"})


async def owners_edit(ctx: Ctx) -> Target:
    """The owner's comment: only the owner, its author, may edit it."""
    target = await owners_comment(ctx)
    return Target(path=target.path, json={"body": "Edited"})


async def reaction(ctx: Ctx) -> Target:
    target = await owners_comment(ctx)
    return Target(path={**target.path, "emoji": "👍"})


CASES = [
    Case("GET", COMMENTS, setup=a_document),
    Case(
        "POST",
        COMMENTS,
        minimum=Role.COMMENTER,
        status=201,
        setup=new_comment,
        mixed=reply_to_a_thread_of_b,
    ),
    # The author edits; nobody else does, whatever their role.
    Case("PATCH", COMMENT, minimum=Role.COMMENTER, setup=own_edit),
    Case(
        "PATCH",
        COMMENT,
        name="another's",
        minimum=Role.OWNER,
        setup=owners_edit,
    ),
    Case("DELETE", COMMENT, minimum=Role.COMMENTER, status=204, setup=own_comment),
    Case("DELETE", COMMENT, name="another's", minimum=Role.ADMIN, status=204, setup=owners_comment),
    Case("POST", f"{COMMENT}/resolve", minimum=Role.COMMENTER, setup=own_comment),
    Case("POST", f"{COMMENT}/resolve", name="another's", minimum=Role.EDITOR, setup=owners_comment),
    Case("POST", f"{COMMENT}/reopen", minimum=Role.COMMENTER, setup=own_comment),
    Case("POST", f"{COMMENT}/reopen", name="another's", minimum=Role.EDITOR, setup=owners_comment),
    Case("PUT", f"{COMMENT}/reactions/{{emoji}}", minimum=Role.COMMENTER, setup=reaction),
    Case("DELETE", f"{COMMENT}/reactions/{{emoji}}", minimum=Role.COMMENTER, setup=reaction),
]
