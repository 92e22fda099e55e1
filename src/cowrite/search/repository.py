"""SQL for full-text search: FTS5 on SQLite, tsvector + GIN on PostgreSQL (both kept by the
database, see migration 0003)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Float, String, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents.visibility import visible_sql

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


# Ranking every match of a frequent word costs time in proportion to the corpus, so the engine
# ranks at most CANDIDATES of the caller's matches, taken in the index's own cheap order (on
# SQLite the newest first). Fewer matches than that are all ranked: the answer is exact.
CANDIDATES = 1000

# Live documents the caller may see (the one visibility rule); its lookups run once, not per row.
_SCOPE = """
    WHERE d.deleted_at IS NULL AND {visible} {filters}
"""

# FTS5 walks its matches in rowid order, so (1) the rowid of the CANDIDATES-th newest match of
# the loose query (phrases taken apart) bounds (2) the exact query to a rowid range it seeks
# into. bm25 is taken over the loose query: for a phrase it would count the phrase's matches in
# the whole corpus first. Snippets are cut for the top rows only.
_SQLITE_ROWS = """
    JOIN documents_fts_map m ON m.fts_rowid = f.rowid
    JOIN documents d ON d.id = m.document_id
"""

_SQLITE = """
WITH bound(low) AS (
    SELECT min(rowid) FROM (
        SELECT f.rowid FROM documents_fts f {rows} {scope} AND documents_fts MATCH :loose
        ORDER BY f.rowid DESC LIMIT :candidates
    )
),
top AS (
    SELECT f.rowid AS fts_rowid, d.id AS id, -bm25(documents_fts, :title_weight, 1.0) AS score
    FROM documents_fts f {rows} {scope}
        AND documents_fts MATCH :loose AND f.rowid >= (SELECT low FROM bound) {exact}
    ORDER BY score DESC, d.id
    LIMIT :limit
)
SELECT d.id AS document_id, d.workspace_id AS workspace_id, d.title AS title,
       snippet(documents_fts, 1, :mark_start, :mark_end, :ellipsis, :tokens) AS snippet,
       top.score AS score
FROM top
JOIN documents_fts f ON f.rowid = top.fts_rowid
JOIN documents d ON d.id = top.id
WHERE documents_fts MATCH :loose
ORDER BY top.score DESC, d.id
"""

# Only needed when the loose query is looser than the query (phrases, exclusions).
_SQLITE_EXACT = """
        AND +f.rowid IN (
            SELECT rowid FROM documents_fts
            WHERE documents_fts MATCH :query AND rowid >= (SELECT low FROM bound)
        )
"""

# PostgreSQL: the GIN index answers the loose query without rechecking rows; the exact query
# (phrases, weights, exclusions), when it differs, and ts_rank then read only the candidates'
# vectors. The candidates are materialized so the planner cannot run the exact query over the
# whole table.
_POSTGRES = """
WITH q AS (
    SELECT to_tsquery('simple', :query) AS query, to_tsquery('simple', :loose) AS loose
),
candidates AS MATERIALIZED (
    SELECT d.id, d.search_vector FROM q, documents d {scope} AND d.search_vector @@ q.loose
    LIMIT :candidates
),
top AS (
    SELECT c.id, ts_rank(c.search_vector, q.query) AS score
    FROM q, candidates c {exact}
    ORDER BY score DESC, c.id
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
    loose_query: str,
    user_id: uuid.UUID,
    workspace_id: uuid.UUID | None,
    tag: str | None,
    limit: int,
) -> list[Hit]:
    visible = visible_sql(dialect, "d")
    scope = _SCOPE.format(visible=visible, filters=_filters(workspace_id, tag))
    params: dict[str, object] = {
        "query": engine_query,
        "loose": loose_query,
        "user_id": user_id,
        "limit": limit,
        "candidates": CANDIDATES,
    }
    binds = [bindparam("user_id", type_=Uuid())]
    if workspace_id is not None:
        params["workspace_id"] = workspace_id
        binds.append(bindparam("workspace_id", type_=Uuid()))
    if tag is not None:
        params["tag"] = tag
    # Words alone (no phrase, no exclusion) make a loose query that is the query itself.
    exact = engine_query != loose_query
    if dialect == "postgresql":
        recheck = "WHERE c.search_vector @@ q.query" if exact else ""
        sql = _POSTGRES.format(scope=scope, exact=recheck)
        params |= {"headline_chars": HEADLINE_CHARS, "options": _HEADLINE_OPTIONS}
    else:
        sql = _SQLITE.format(rows=_SQLITE_ROWS, scope=scope, exact=_SQLITE_EXACT if exact else "")
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
