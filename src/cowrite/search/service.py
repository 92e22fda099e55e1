"""Search: parse the user's query, ask the engine of this database, present the hits."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents.schemas import normalize_tag
from cowrite.search import query as search_query
from cowrite.search import ranking, repository
from cowrite.search.schemas import SearchHit, SearchOut
from cowrite.search.snippets import Snippets
from cowrite.workspaces.roles import Role


async def search(
    session: AsyncSession,
    user_id: uuid.UUID,
    text: str,
    *,
    workspace_id: uuid.UUID | None,
    tag: str | None,
    limit: int,
    workspace_role: Role | None = None,
) -> SearchOut:
    """Live documents of the caller's live workspaces that match, best first. With
    `workspace_id`, `workspace_role` (the caller's role there, when known) saves lookups."""
    parsed = search_query.parse(text)
    if parsed.empty:
        return SearchOut(items=[])
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        engine_query = search_query.to_tsquery(parsed)
    else:
        engine_query = search_query.to_fts5(parsed)
    candidates = await repository.newest_matches(
        session,
        dialect=dialect,
        query=parsed,
        engine_query=engine_query,
        user_id=user_id,
        workspace_id=workspace_id,
        workspace_role=workspace_role,
        tag=normalize_tag(tag) if tag is not None else None,
    )
    ranked = ranking.rank(parsed, candidates, limit)
    longer = await repository.longer_bodies(
        session, [hit.document_id for _, hit in ranked if hit.cut]
    )
    snippets = Snippets(search_query.wanted_words(parsed))
    return SearchOut(
        items=[
            SearchHit(
                document_id=hit.document_id,
                workspace_id=hit.workspace_id,
                title=hit.title,
                snippet=snippets.cut(longer.get(hit.document_id, hit.body)),
                score=score,
            )
            for score, hit in ranked
        ]
    )
