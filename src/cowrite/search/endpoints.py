"""/api/v1/search: full-text search over the caller's live documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from cowrite.comments import search as comment_search
from cowrite.deps import DbSession
from cowrite.kit.pagination import DEFAULT_LIMIT, MAX_LIMIT
from cowrite.search import service
from cowrite.search.deps import SearchAccess
from cowrite.search.schemas import SearchHit, SearchOut

router = APIRouter(tags=["search"])


@router.get("/api/v1/search", response_model=SearchOut)
async def search(
    scope: SearchAccess,
    session: DbSession,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    tag: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    in_comments: Annotated[bool, Query()] = False,
) -> Response:
    """Words must all match, "quoted words" as a phrase, -word excludes, OR offers a choice;
    `in:comments` (or `in_comments=true`) searches comment bodies instead."""
    asked, rest = comment_search.wants_comments(q)
    if asked or in_comments:
        hits = await comment_search.search_comments(
            session, scope.principal.user_id, rest, workspace_id=scope.workspace_id, limit=limit
        )
        out = SearchOut(items=[SearchHit.model_validate(hit) for hit in hits])
    else:
        out = await service.search(
            session,
            scope.principal.user_id,
            q,
            workspace_id=scope.workspace_id,
            workspace_role=scope.workspace_role,
            tag=tag,
            limit=limit,
        )
    # Serialized once, here: the route's response_model describes it in the schema only.
    return Response(out.model_dump_json(), media_type="application/json")
