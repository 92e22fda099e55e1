"""Comment bodies in search (`in:comments` in the query, or `in_comments=true`): the same
language and the same visibility as documents (live documents of the caller's live
workspaces); a term matches a body that contains its words in order."""

from __future__ import annotations

import html
import re
import uuid

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents.visibility import visible_to
from cowrite.models import Comment, Document
from cowrite.search.query import Term, parse

SCOPE_TOKEN = re.compile(r"(?<!\S)in:comments(?!\S)", re.IGNORECASE)
SNIPPET_CHARS = 160


def wants_comments(text: str) -> tuple[bool, str]:
    """Whether the query asks for comments, and the query without that token."""
    stripped, found = SCOPE_TOKEN.subn(" ", text)
    return bool(found), stripped.strip()


def _matches(term: Term) -> ColumnElement[bool]:
    # Words are runs of letters and digits (the parser keeps nothing else): no LIKE wildcards.
    return func.lower(Comment.body).like("%" + "%".join(term.words) + "%")


def _snippet(body: str, words: list[str]) -> str:
    lower = body.lower()
    at = min((lower.find(w) for w in words if w in lower), default=0)
    start = max(0, at - SNIPPET_CHARS // 3)
    excerpt = body[start : start + SNIPPET_CHARS]
    escaped = html.escape(excerpt, quote=False)
    for word in sorted(set(words), key=len, reverse=True):
        escaped = re.sub(
            f"({re.escape(html.escape(word))})", r"<mark>\1</mark>", escaped, flags=re.I
        )
    return ("…" if start else "") + escaped + ("…" if start + SNIPPET_CHARS < len(body) else "")


async def search_comments(
    session: AsyncSession,
    user_id: uuid.UUID,
    text: str,
    *,
    workspace_id: uuid.UUID | None,
    limit: int,
) -> list[dict[str, object]]:
    """Hits, newest comment first: {document_id, workspace_id, title, snippet, score,
    comment_id}."""
    query = parse(text)
    if query.empty:
        return []
    conditions = [or_(*(_matches(t) for t in clause)) for clause in query.clauses]
    conditions += [not_(_matches(t)) for t in query.excluded]
    statement = (
        select(Comment.id, Comment.body, Document.id, Document.workspace_id, Document.title)
        .join(Document, Document.id == Comment.document_id)
        .where(
            Document.deleted_at.is_(None),
            Comment.deleted_at.is_(None),
            visible_to(user_id),
            and_(*conditions),
        )
        .order_by(Comment.created_at.desc(), Comment.id.desc())
        .limit(limit)
    )
    if workspace_id is not None:
        statement = statement.where(Comment.workspace_id == workspace_id)
    words = [word for clause in query.clauses for term in clause for word in term.words]
    rows = (await session.execute(statement)).all()
    return [
        {
            "document_id": document_id,
            "workspace_id": row_workspace,
            "title": title,
            "snippet": _snippet(body, words),
            "score": 1.0,
            "comment_id": comment_id,
        }
        for comment_id, body, document_id, row_workspace, title in rows
    ]
