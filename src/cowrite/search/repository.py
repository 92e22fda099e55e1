"""SQL for full-text search: FTS5 on SQLite, tsvector + GIN on PostgreSQL (both kept by the
database, see migration 0003). The engines find the newest matches; `ranking` orders them and
`snippets` cuts their text, the same way on both backends."""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, String, TextClause, Uuid, bindparam, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from cowrite.documents.visibility import visible_sql
from cowrite.search import windows
from cowrite.search.query import Query
from cowrite.search.windows import WordShares
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

# A body no longer than what ranking reads is taken whole: cutting it (counting its characters)
# costs PostgreSQL more than reading it.
_COLUMNS = """d.id AS document_id, d.workspace_id AS workspace_id, d.title AS title,
       CASE WHEN {length}(d.content) > :source_chars THEN substr(d.content, 1, :source_chars)
            ELSE d.content END AS body,
       {length}(d.content) > :source_chars AS cut"""

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

# PostgreSQL: the newest matches, window by window (see `windows`): each window's matches newest
# first, up to the bound, the windows newest first, the whole cut at the bound, so that a window
# after the one that completes it is never read. The words and the floors are written into the
# statement so that each window is planned for them. The scope is one opaque condition
# (`IS TRUE`) so that no other index competes. Each row's texts are cut only once the bound is
# met (a byte length needs no decompression). The newest `search_seq` comes along, for the next
# search's windows.
_WINDOW = f"""(SELECT d.search_seq, d.id, d.workspace_id, d.title::text, d.content FROM documents d
    WHERE d.search_vector @@ to_tsquery('simple', {{query}}) {{window}} AND ({_SCOPE}) IS TRUE
    ORDER BY d.search_seq DESC LIMIT {{candidates}})"""

_POSTGRES = f"""SELECT d.search_seq AS key, {_COLUMNS.format(length="octet_length")}
FROM ({{windows}}) AS d LIMIT {{candidates}}"""
_NEWEST = "(SELECT max(search_seq) FROM documents)"

# The planner takes testing a vector for as cheap as a comparison, and would walk where a bitmap
# is many times cheaper: when the bitmap is chosen, the statement is run by a function that plans
# it with no index walks (migration 0017), reading the parameters in this order.
_BITMAP = """cowrite_search_bitmap(:statement, :user_id, :workspace_id, :tag, :source_chars)"""
_BITMAP_PARAMETERS = {":user_id": "$1", ":workspace_id": "$2", ":tag": "$3", ":source_chars": "$4"}

# PostgreSQL's statistics of the text column: the share of documents holding each of its most
# common words (the lowest of them bounds every other word's). Gathered by ANALYZE (autovacuum
# runs it as the table grows), so read again now and then.
_WORD_SHARES = text(
    "SELECT most_common_elems::text::text[] AS words, most_common_elem_freqs AS shares"
    " FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'documents'"
    " AND attname = 'search_vector'"
)
_SHARES_SECONDS = 60.0


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


def _literal(value: str) -> str:
    """A string literal. The query and the window are written into the statement rather than
    bound, so that PostgreSQL plans each search for its own words (a plan made once for any
    words would read every match of a frequent one)."""
    return "'" + value.replace("'", "''") + "'"


def _sql_string(value: str) -> str:
    """`_literal` for SQLAlchemy's `text`, which would take a colon (`'word':A`) for a parameter."""
    return _literal(value).replace(":", "\\:")


def _candidates(rows: Iterable[Sequence[Any]]) -> list[Candidate]:
    """Rows of (key, document_id, workspace_id, title, body, cut, …), unpacked by position:
    hundreds per search, and a row's attributes cost far more than its items."""
    return [
        Candidate(document_id, workspace_id, title, body or "", key, bool(cut))
        for key, document_id, workspace_id, title, body, cut, *_ in rows
    ]


_TYPES: dict[str, TypeEngine[Any]] = {
    "key": Integer(),
    "document_id": Uuid(),
    "workspace_id": Uuid(),
    "title": String(),
    "body": String(),
}


@dataclass(slots=True)
class _Known:
    """What earlier searches in this process learned of one PostgreSQL database: they size the
    windows only, so an outdated value costs time, never a match."""

    newest: int | None = None
    shares: WordShares | None = None
    shares_read: float = -math.inf


_KNOWN: dict[str, _Known] = {}


def _known(session: AsyncSession) -> _Known:
    return _KNOWN.setdefault(str(session.get_bind().engine.url), _Known())


async def _word_shares(session: AsyncSession) -> WordShares | None:
    row = (await session.execute(_WORD_SHARES)).first()
    if row is None or not row.words:
        return None  # not analyzed yet
    listed = [float(share) for share in row.shares[: len(row.words)]]
    return WordShares(dict(zip(row.words, listed, strict=True)), min(listed))


async def newest_matches(
    session: AsyncSession,
    *,
    dialect: str,
    query: Query,
    engine_query: str,
    user_id: uuid.UUID,
    workspace_id: uuid.UUID | None,
    workspace_role: Role | None,
    tag: str | None,
) -> list[Candidate]:
    """The CANDIDATES newest matches the caller may see of `query` (`engine_query`: its
    rendering for this database); `workspace_role`: the caller's role in `workspace_id`."""
    visible = visible_sql(dialect, "d", workspace_role if workspace_id is not None else None)
    scope = _SCOPE.format(visible=visible, filters=_filters(workspace_id, tag))
    params: dict[str, object] = {"user_id": user_id, "source_chars": RANK_SOURCE_CHARS}
    if workspace_id is not None:
        params["workspace_id"] = workspace_id
    if tag is not None:
        params["tag"] = tag
    if dialect != "postgresql":
        sqlite = _bound(_SQLITE.replace(_SCOPE, scope)).columns(**_TYPES)
        params |= {"query": engine_query, "candidates": CANDIDATES}
        return _candidates(await session.execute(sqlite, params))
    known = _known(session)
    if known.newest is None:
        known.newest = await session.scalar(text(f"SELECT {_NEWEST}"))
        if known.newest is None:
            return []
    if time.monotonic() - known.shares_read > _SHARES_SECONDS:
        known.shares = await _word_shares(session)
        known.shares_read = time.monotonic()
    way = windows.plan(query, CANDIDATES, known.shares, known.newest)
    floors = windows.floors(known.newest, way.first)
    parts = []
    for upper, floor in zip([None, *floors], [*floors, None], strict=True):
        bounds = "" if floor is None else f" AND d.search_seq > {floor}"
        bounds += "" if upper is None else f" AND d.search_seq <= {upper}"
        parts.append(_WINDOW.replace("{window}", bounds))
    sql = _POSTGRES.replace("{windows}", "\nUNION ALL ".join(parts))
    sql = sql.replace("{candidates}", str(int(CANDIDATES))).replace(_SCOPE, scope)
    if way.bitmap:
        for name, number in _BITMAP_PARAMETERS.items():
            sql = sql.replace(name, number)
        params |= {"statement": sql.replace("{query}", _literal(engine_query))}
        params |= {"workspace_id": workspace_id, "tag": tag}
        source = _BITMAP
    else:
        source = f"({sql.replace('{query}', _sql_string(engine_query))})"
    statement = f"SELECT found.*, {_NEWEST} AS newest FROM {source} AS found"
    rows = (await session.execute(_bound(statement).columns(**_TYPES), params)).all()
    if rows:
        known.newest = rows[0].newest
    return _candidates(rows)


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
