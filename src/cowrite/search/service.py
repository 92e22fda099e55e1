"""Search: parse the user's query, ask the engine of this database, present the hits."""

from __future__ import annotations

import html
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents.schemas import normalize_tag
from cowrite.search import query as search_query
from cowrite.search import repository
from cowrite.search.schemas import SearchHit, SearchOut


def present_snippet(raw: str) -> str:
    """Escape the document's text, then turn the engine's markers into <mark> tags."""
    return (
        html.escape(raw, quote=False)
        .replace(repository.MARK_START, "<mark>")
        .replace(repository.MARK_END, "</mark>")
    )


async def search(
    session: AsyncSession,
    user_id: uuid.UUID,
    text: str,
    *,
    workspace_id: uuid.UUID | None,
    tag: str | None,
    limit: int,
) -> SearchOut:
    """Live documents of the caller's live workspaces that match, best first."""
    parsed = search_query.parse(text)
    if parsed.empty:
        return SearchOut(items=[])
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        engine_query = search_query.to_tsquery(parsed)
        loose_query = search_query.to_tsquery_loose(parsed)
    else:
        engine_query = search_query.to_fts5(parsed)
        loose_query = search_query.to_fts5_loose(parsed)
    hits = await repository.search(
        session,
        dialect=dialect,
        engine_query=engine_query,
        loose_query=loose_query,
        user_id=user_id,
        workspace_id=workspace_id,
        tag=normalize_tag(tag) if tag is not None else None,
        limit=limit,
    )
    return SearchOut(
        items=[
            SearchHit(
                document_id=hit.document_id,
                workspace_id=hit.workspace_id,
                title=hit.title,
                snippet=present_snippet(hit.snippet),
                score=hit.score,
            )
            for hit in hits
        ]
    )
