"""Load a document together with the caller's role in its workspace (REST and sockets alike)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exists, func, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.errors import NotFound
from cowrite.models import Document, DocumentTag, Membership, Workspace, YUpdate
from cowrite.workspaces.access import require_role
from cowrite.workspaces.roles import Role

# Tags are normalized on the way in (every whitespace character, this one included, becomes a
# plain space), so it never occurs inside a tag and can join them into one column.
TAG_SEPARATOR = "\x1f"

# The document and the caller's role in its live workspace in one round trip. No row means
# the document is missing or hidden from the caller: both answer 404. Built once so every
# request reuses the compiled statement.
_DOCUMENT_WITH_ROLE = (
    select(Document, Membership.role)
    .join(Workspace, Workspace.id == Document.workspace_id)
    .join(Membership, Membership.workspace_id == Document.workspace_id)
    .where(
        Document.id == bindparam("document_id"),
        Membership.user_id == bindparam("user_id"),
        Workspace.deleted_at.is_(None),
    )
)
_TAGS_WHERE = DocumentTag.document_id == Document.id
# Whether the update log holds edits newer than the saved content (it is saved after a pause):
# a reader then builds the body from the log instead.
_CONTENT_BEHIND = exists().where(
    YUpdate.document_id == Document.id, YUpdate.created_at > Document.updated_at
)
# The same, with the tags joined into one column: SQLite's BINARY order is code-point order,
# so Python sorts them as `ORDER BY name` would; PostgreSQL orders them in its own collation.
_WITH_TAGS = {
    "sqlite": _DOCUMENT_WITH_ROLE.add_columns(
        select(func.group_concat(DocumentTag.name, TAG_SEPARATOR))
        .where(_TAGS_WHERE)
        .scalar_subquery(),
        _CONTENT_BEHIND,
    ),
    "postgresql": _DOCUMENT_WITH_ROLE.add_columns(
        select(
            func.string_agg(
                DocumentTag.name,
                aggregate_order_by(literal(TAG_SEPARATOR), DocumentTag.name),
            )
        )
        .where(_TAGS_WHERE)
        .scalar_subquery(),
        _CONTENT_BEHIND,
    ),
}


@dataclass(frozen=True, slots=True)
class DocumentGrant:
    document: Document
    role: Role
    # Sorted by name; None unless asked for.
    tags: list[str] | None = None
    # Asked for together with the tags: the update log has edits the content does not show yet.
    content_behind: bool = False


def _split_tags(dialect: str, joined: str | None) -> list[str]:
    if not joined:
        return []
    tags = joined.split(TAG_SEPARATOR)
    return tags if dialect == "postgresql" else sorted(tags)


async def document_grant(
    session: AsyncSession,
    user_id: uuid.UUID,
    document_id: uuid.UUID,
    minimum: Role,
    *,
    allow_trashed: bool = False,
    with_tags: bool = False,
) -> DocumentGrant:
    """404 when the document does not exist, is hidden from the caller, or is trashed (unless
    allowed); 403 when the caller may see it but lacks `minimum`."""
    params = {"document_id": document_id, "user_id": user_id}
    dialect = session.get_bind().dialect.name if with_tags else ""
    statement: Any = _WITH_TAGS.get(dialect, _DOCUMENT_WITH_ROLE)
    row = (await session.execute(statement, params)).first()
    if row is None:
        raise NotFound("Document not found", code="not_found")
    document, role = row[0], row[1]
    if document.deleted_at is not None and not allow_trashed:
        raise NotFound("Document not found", code="not_found")
    tags = _split_tags(dialect, row[2]) if len(row) > 2 else None
    return DocumentGrant(
        document=document,
        role=require_role(Role(role), minimum, "Document"),
        tags=tags,
        content_behind=bool(row[3]) if len(row) > 3 else False,
    )
