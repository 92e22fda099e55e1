"""SQL for full-text search: FTS5 on SQLite, tsvector + GIN on PostgreSQL (both kept by the
database, see migration 0003). The engines find the newest matches; `ranking` orders them and
`snippets` cuts their text, the same way on both backends."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Integer, String, TextClause, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents.visibility import visible_sql
from cowrite.workspaces.roles import Role

# Ranking reads this much of the start of each candidate's body; the hits shown read up to
# SNIPPET_SOURCE_CHARS for their snippets.
RANK_SOURCE_CHARS = 32_768
SNIPPET_SOURCE_CHARS = 200_000

# Ranking every match of a frequent word costs time in proportion to the corpus, so at most
# CANDIDATES matches are ranked: the newest ones, by the order in which the documents were
# created, which both backends keep (SQLite: the FTS map's rowid; PostgreSQL: `search_seq`, see
# migration 0016). So both rank the same set. Fewer matches than that are all ranked.
CANDIDATES = 200


@dataclass(frozen=True, slots=True)
class Candidate:
    document_id: uuid.UUID
    workspace_id: uuid.UUID
    title: str
    body: str  # the start of the content, for ranking and the snippet
    key: int  # creation order: higher is newer
    cut: bool  # the body was longer than what was read


# Live documents the caller may see (the one visibility rule); its lookups run once, not per row.
_SCOPE = "d.deleted_at IS NULL AND {visible} {filters}"

_COLUMNS = """d.id AS document_id, d.workspace_id AS workspace_id, d.title AS title,
       substr(d.content, 1, :source_chars) AS body, {length}(d.content) > :source_chars AS cut"""

# SQLite: FTS5 walks the query's matches newest first (rowid order) and stops at the bound.
_SQLITE = f"""
SELECT f.rowid AS key, {_COLUMNS.format(length="length")}
FROM documents_fts f
JOIN documents_fts_map m ON m.fts_rowid = f.rowid
JOIN documents d ON d.id = m.document_id
WHERE documents_fts MATCH :query AND {_SCOPE}
ORDER BY f.rowid DESC
LIMIT :candidates
"""

# PostgreSQL: the newest matches among the documents created after a floor (a window of the
# newest). The words and the floor are written into the statement so that it is planned for
# them: a frequent word walks the sequence's index backwards and stops at the bound, a rarer one
# meets the text index and the sequence's in one bitmap. A phrase always takes the bitmap (the
# `matches` step is materialized): testing a phrase against each document walked over unpacks
# its vector, which costs far more than the planner foresees. The scope is one opaque condition
# (`IS TRUE`) so that no other index competes. Only the chosen rows' texts are read (a byte
# length needs no decompression).
_POSTGRES = f"""
WITH matches AS {{materialized}} (
    SELECT d.id, d.search_seq FROM documents d
    WHERE d.search_vector @@ to_tsquery('simple', {{query}}) {{window}} AND ({_SCOPE}) IS TRUE
),
newest AS (
    SELECT id, search_seq FROM matches ORDER BY search_seq DESC LIMIT :candidates
)
SELECT newest.search_seq AS key, {_COLUMNS.format(length="octet_length")}
FROM newest JOIN documents d ON d.id = newest.id
"""

# The first window holds this many times CANDIDATES documents (half as many for a phrase, whose
# bitmap is checked row by row); a query that finds too few matches there looks again over a
# window sized by what it found, then over everything.
_FIRST_WINDOW = 16
_MARGIN = 1.5


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


def _sql_string(value: str) -> str:
    """A string literal. The query and the window are written into the statement rather than
    bound, so that PostgreSQL plans each search for its own words (a plan made once for any
    words would read every match of a frequent one)."""
    # A colon (`'word':A`) is escaped for SQLAlchemy's `text`, which would take it for a parameter.
    return "'" + value.replace("'", "''").replace(":", "\\:") + "'"


@dataclass(frozen=True, slots=True)
class _Statement:
    sql: TextClause
    params: dict[str, object]

    async def run(self, session: AsyncSession) -> list[Candidate]:
        statement = self.sql.columns(
            key=Integer(), document_id=Uuid(), workspace_id=Uuid(), title=String(), body=String()
        )
        result = await session.execute(statement, self.params)
        return [
            Candidate(
                row.document_id, row.workspace_id, row.title, row.body or "", row.key, bool(row.cut)
            )
            for row in result
        ]


async def newest_matches(
    session: AsyncSession,
    *,
    dialect: str,
    engine_query: str,
    user_id: uuid.UUID,
    workspace_id: uuid.UUID | None,
    workspace_role: Role | None,
    tag: str | None,
) -> list[Candidate]:
    """The CANDIDATES newest matches the caller may see; `workspace_role`: the caller's role in
    `workspace_id`."""
    visible = visible_sql(dialect, "d", workspace_role if workspace_id is not None else None)
    scope = _SCOPE.format(visible=visible, filters=_filters(workspace_id, tag))
    params: dict[str, object] = {
        "query": engine_query,
        "user_id": user_id,
        "candidates": CANDIDATES,
        "source_chars": RANK_SOURCE_CHARS,
    }
    if workspace_id is not None:
        params["workspace_id"] = workspace_id
    if tag is not None:
        params["tag"] = tag
    if dialect != "postgresql":
        return await _Statement(_bound(_SQLITE.replace(_SCOPE, scope)), params).run(session)
    del params["query"]
    sql = _POSTGRES.replace(_SCOPE, scope).replace("{query}", _sql_string(engine_query))
    phrase = "<->" in engine_query
    sql = sql.replace("{materialized}", "MATERIALIZED" if phrase else "NOT MATERIALIZED")
    newest = await session.scalar(text("SELECT max(search_seq) FROM documents"))
    if newest is None:
        return []
    window = _FIRST_WINDOW * CANDIDATES // (2 if phrase else 1)
    while True:
        floor = f"AND d.search_seq > {int(newest) - window}" if window < newest else ""
        found = await _Statement(_bound(sql.replace("{window}", floor)), params).run(session)
        if len(found) >= CANDIDATES or not floor:
            return found
        # Matches are spread about evenly over time: size the next window by their density.
        window = int(window * _MARGIN * CANDIDATES / len(found)) if found else int(newest)


def _bound(sql: str) -> TextClause:
    """`sql` with its caller and workspace parameters typed as UUIDs (an admin's rule in their
    own workspace reads no `:user_id`)."""
    ids = [bindparam(name, type_=Uuid()) for name in ("user_id", "workspace_id")]
    return text(sql).bindparams(*[bind for bind in ids if f":{bind.key}" in sql])


async def longer_bodies(
    session: AsyncSession, document_ids: list[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Up to SNIPPET_SOURCE_CHARS of each document's body, for the snippets of long ones."""
    if not document_ids:
        return {}
    statement = text(
        "SELECT id, substr(content, 1, :chars) AS body FROM documents WHERE id IN :ids"
    ).bindparams(bindparam("ids", expanding=True, type_=Uuid()))
    result = await session.execute(
        statement.columns(id=Uuid(), body=String()),
        {"chars": SNIPPET_SOURCE_CHARS, "ids": document_ids},
    )
    return {row.id: row.body or "" for row in result}
