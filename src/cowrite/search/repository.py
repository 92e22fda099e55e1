"""SQL for full-text search: FTS5 on SQLite, tsvector + GIN on PostgreSQL (both kept by the
database, see migration 0003)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Float, String, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

# Private-use characters mark highlights, so the service can escape the text and then mark it.
MARK_START = "\ue000"
MARK_END = "\ue001"
ELLIPSIS = "…"
SNIPPET_TOKENS = 24
TITLE_WEIGHT = 10.0  # FTS5 bm25 column weight of the title (the body weighs 1)
HEADLINE_CHARS = 200_000  # PostgreSQL highlights within this much of a long body


@dataclass(frozen=True, slots=True)
class Hit:
    document_id: uuid.UUID
    workspace_id: uuid.UUID
    title: str
    snippet: str
    score: float


def _filters(workspace_id: uuid.UUID | None, tag: str | None) -> str:
    sql = ""
    if workspace_id is not None:
        sql += " AND d.workspace_id = :workspace_id"
    if tag is not None:
        sql += (
            " AND EXISTS (SELECT 1 FROM document_tags t"
            " WHERE t.document_id = d.id AND t.name = :tag)"
        )
    return sql


_SCOPE = """
    JOIN memberships ms ON ms.workspace_id = d.workspace_id AND ms.user_id = :user_id
    JOIN workspaces w ON w.id = d.workspace_id AND w.deleted_at IS NULL
    WHERE d.deleted_at IS NULL {filters}
"""

_SQLITE = """
SELECT d.id AS document_id, d.workspace_id AS workspace_id, d.title AS title,
       snippet(documents_fts, 1, :mark_start, :mark_end, :ellipsis, :tokens) AS snippet,
       -bm25(documents_fts, :title_weight, 1.0) AS score
FROM documents_fts
JOIN documents_fts_map m ON m.fts_rowid = documents_fts.rowid
JOIN documents d ON d.id = m.document_id
WHERE documents_fts MATCH :query AND documents_fts.rowid IN (
    SELECT documents_fts.rowid FROM documents_fts
    JOIN documents_fts_map m ON m.fts_rowid = documents_fts.rowid
    JOIN documents d ON d.id = m.document_id
    {scope} AND documents_fts MATCH :query
    ORDER BY bm25(documents_fts, :title_weight, 1.0), d.id
    LIMIT :limit
)
ORDER BY score DESC, d.id
"""

_POSTGRES = """
WITH q AS (SELECT to_tsquery('simple', :query) AS query),
top AS (
    SELECT d.id, ts_rank(d.search_vector, q.query) AS score
    FROM q, documents d
    {scope} AND d.search_vector @@ q.query
    ORDER BY score DESC, d.id
    LIMIT :limit
)
SELECT d.id AS document_id, d.workspace_id AS workspace_id, d.title AS title,
       ts_headline('simple', left(d.content, :headline_chars), q.query, :options) AS snippet,
       top.score AS score
FROM top JOIN documents d ON d.id = top.id, q
ORDER BY top.score DESC, d.id
"""

_HEADLINE_OPTIONS = (
    f'StartSel="{MARK_START}", StopSel="{MARK_END}", MaxWords={SNIPPET_TOKENS}, '
    f'MinWords={SNIPPET_TOKENS // 2}, MaxFragments=2, FragmentDelimiter=" {ELLIPSIS} "'
)


async def search(
    session: AsyncSession,
    *,
    dialect: str,
    engine_query: str,
    user_id: uuid.UUID,
    workspace_id: uuid.UUID | None,
    tag: str | None,
    limit: int,
) -> list[Hit]:
    scope = _SCOPE.format(filters=_filters(workspace_id, tag))
    params: dict[str, object] = {"query": engine_query, "user_id": user_id, "limit": limit}
    binds = [bindparam("user_id", type_=Uuid())]
    if workspace_id is not None:
        params["workspace_id"] = workspace_id
        binds.append(bindparam("workspace_id", type_=Uuid()))
    if tag is not None:
        params["tag"] = tag
    if dialect == "postgresql":
        sql = _POSTGRES.format(scope=scope)
        params |= {"headline_chars": HEADLINE_CHARS, "options": _HEADLINE_OPTIONS}
    else:
        sql = _SQLITE.format(scope=scope)
        params |= {
            "mark_start": MARK_START,
            "mark_end": MARK_END,
            "ellipsis": ELLIPSIS,
            "tokens": SNIPPET_TOKENS,
            "title_weight": TITLE_WEIGHT,
        }
    statement = (
        text(sql)
        .bindparams(*binds)
        .columns(
            document_id=Uuid(), workspace_id=Uuid(), title=String(), snippet=String(), score=Float()
        )
    )
    result = await session.execute(statement, params)
    return [
        Hit(row.document_id, row.workspace_id, row.title, row.snippet or "", float(row.score))
        for row in result
    ]
