"""SQL for full-text search: FTS5 on SQLite, tsvector + GIN on PostgreSQL (both kept by the
database, see migration 0003). The engines find and rank; snippets are cut in `snippets`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Float, String, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents.visibility import visible_sql
from cowrite.workspaces.roles import Role

TITLE_WEIGHT = 10.0  # FTS5 bm25 column weight of the title (the body weighs 1)
SNIPPET_SOURCE_CHARS = 200_000  # snippets are cut from this much of the start of a long body


@dataclass(frozen=True, slots=True)
class Hit:
    document_id: uuid.UUID
    workspace_id: uuid.UUID
    title: str
    body: str  # the start of the content, for the snippet
    score: float


# Ranking every match of a frequent word costs time in proportion to the corpus, so the engine
# ranks at most CANDIDATES of the caller's matches, taken in the index's own cheap order (on
# SQLite the newest first). Fewer matches than that are all ranked: the answer is exact.
CANDIDATES = 1000

# Live documents the caller may see (the one visibility rule); its lookups run once, not per row.
_SCOPE = """
    WHERE d.deleted_at IS NULL AND {visible} {filters}
"""

# SQLite: FTS5 walks its matches in rowid order, so the CANDIDATES newest matches of the loose
# query (phrases taken apart) in the caller's scope are found first, once; then only their
# rowid range is ranked, each row checked against that set rather than the scope again. bm25 is
# taken over the loose query: for a phrase it would count the phrase's matches in the whole
# corpus first. The exact query (phrases, exclusions), when it differs, is sought in that range.
_SQLITE = """
WITH candidates AS MATERIALIZED (
    SELECT f.rowid AS fts_rowid, d.id AS id
    FROM documents_fts f
    JOIN documents_fts_map m ON m.fts_rowid = f.rowid
    JOIN documents d ON d.id = m.document_id
    {scope} AND documents_fts MATCH :loose
    ORDER BY f.rowid DESC
    LIMIT :candidates
),
top AS (
    SELECT c.id AS id, -bm25(documents_fts, :title_weight, 1.0) AS score
    FROM documents_fts f CROSS JOIN candidates c
    WHERE documents_fts MATCH :loose AND f.rowid >= (SELECT min(fts_rowid) FROM candidates)
        AND c.fts_rowid = f.rowid {exact}
    ORDER BY score DESC, c.id
    LIMIT :limit
)
SELECT d.id AS document_id, d.workspace_id AS workspace_id, d.title AS title,
       substr(d.content, 1, :source_chars) AS body, top.score AS score
FROM top JOIN documents d ON d.id = top.id
ORDER BY top.score DESC, d.id
"""

# Only needed when the loose query is looser than the query (phrases, exclusions).
_SQLITE_EXACT = """
        AND +f.rowid IN (
            SELECT rowid FROM documents_fts
            WHERE documents_fts MATCH :query
                AND rowid >= (SELECT min(fts_rowid) FROM candidates)
        )
"""

# PostgreSQL: the GIN index answers the loose query without rechecking rows; the exact query
# (phrases, weights, exclusions), when it differs, and ts_rank then read only the candidates'
# vectors. The scope is one opaque condition (`IS TRUE`) so that no B-tree index competes with
# the text index: walking a workspace's documents and testing each one's vector costs time in
# proportion to the documents passed over, which the planner cannot foresee (the query's words
# are not known when it plans). The candidates are materialized so the planner cannot run the
# exact query over the whole table.
_POSTGRES = """
WITH q AS (
    SELECT to_tsquery('simple', :query) AS query, to_tsquery('simple', :loose) AS loose
),
candidates AS MATERIALIZED (
    SELECT d.id, d.search_vector FROM q, documents d
    WHERE d.search_vector @@ q.loose AND (d.deleted_at IS NULL AND {visible} {filters}) IS TRUE
    LIMIT :candidates
),
top AS (
    SELECT c.id, ts_rank(c.search_vector, q.query) AS score
    FROM q, candidates c {exact}
    ORDER BY score DESC, c.id
    LIMIT :limit
)
SELECT d.id AS document_id, d.workspace_id AS workspace_id, d.title AS title,
       left(d.content, :source_chars) AS body, top.score AS score
FROM top JOIN documents d ON d.id = top.id
ORDER BY top.score DESC, d.id
"""


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


async def search(
    session: AsyncSession,
    *,
    dialect: str,
    engine_query: str,
    loose_query: str,
    user_id: uuid.UUID,
    workspace_id: uuid.UUID | None,
    workspace_role: Role | None,
    tag: str | None,
    limit: int,
) -> list[Hit]:
    """The best `limit` matches; `workspace_role`: the caller's role in `workspace_id`."""
    visible = visible_sql(dialect, "d", workspace_role if workspace_id is not None else None)
    filters = _filters(workspace_id, tag)
    params: dict[str, object] = {
        "query": engine_query,
        "loose": loose_query,
        "user_id": user_id,
        "limit": limit,
        "candidates": CANDIDATES,
        "source_chars": SNIPPET_SOURCE_CHARS,
    }
    if workspace_id is not None:
        params["workspace_id"] = workspace_id
    if tag is not None:
        params["tag"] = tag
    # Words alone (no phrase, no exclusion) make a loose query that is the query itself.
    exact = engine_query != loose_query
    if dialect == "postgresql":
        recheck = "WHERE c.search_vector @@ q.query" if exact else ""
        sql = _POSTGRES.format(visible=visible, filters=filters, exact=recheck)
    else:
        scope = _SCOPE.format(visible=visible, filters=filters)
        sql = _SQLITE.format(scope=scope, exact=_SQLITE_EXACT if exact else "")
        params["title_weight"] = TITLE_WEIGHT
    # An admin's rule in their own workspace reads no `:user_id`.
    ids = [bindparam(name, type_=Uuid()) for name in ("user_id", "workspace_id") if name in params]
    statement = (
        text(sql)
        .bindparams(*[bind for bind in ids if f":{bind.key}" in sql])
        .columns(
            document_id=Uuid(), workspace_id=Uuid(), title=String(), body=String(), score=Float()
        )
    )
    result = await session.execute(statement, params)
    return [
        Hit(row.document_id, row.workspace_id, row.title, row.body or "", float(row.score))
        for row in result
    ]
