"""Load a document together with the caller's role on it (REST and sockets alike)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, and_, bindparam, exists, func, literal, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents.visibility import effective_role
from cowrite.kit.errors import NotFound
from cowrite.models import (
    Document,
    DocumentMember,
    DocumentTag,
    Membership,
    Workspace,
    YSnapshot,
    YUpdate,
)
from cowrite.workspaces.access import require_role
from cowrite.workspaces.roles import Role

# Tags are normalized on the way in (every whitespace character, this one included, becomes a
# plain space), so it never occurs inside a tag and can join them into one column.
TAG_SEPARATOR = "\x1f"

# The document with the caller's workspace role and document role in one round trip; the rule
# in `visibility.effective_role` turns them into the role on the document. No row, or no role,
# means the document is missing or hidden from the caller: both answer 404. Built once so every
# request reuses the compiled statement.
_USER: BindParameter[Any] = bindparam("user_id")
_DOCUMENT_WITH_ROLE = (
    select(Document, Membership.role, DocumentMember.role)
    .join(Workspace, Workspace.id == Document.workspace_id)
    .outerjoin(
        Membership,
        and_(Membership.workspace_id == Document.workspace_id, Membership.user_id == _USER),
    )
    .outerjoin(
        DocumentMember,
        and_(DocumentMember.document_id == Document.id, DocumentMember.user_id == _USER),
    )
    .where(Document.id == bindparam("document_id"), Workspace.deleted_at.is_(None))
)
_TAGS_WHERE = DocumentTag.document_id == Document.id
# Whether the update log holds edits newer than the saved content (it is saved after a pause):
# a reader then builds the body from the log instead.
# A compaction moves log rows into the snapshot, dated by the newest of them; a snapshot that was
# only ever seeded from the content (`last_update_id` 0) is never ahead of it.
_CONTENT_BEHIND = or_(
    exists().where(YUpdate.document_id == Document.id, YUpdate.created_at > Document.updated_at),
    exists().where(
        YSnapshot.document_id == Document.id,
        YSnapshot.last_update_id > 0,
        YSnapshot.updated_at > Document.updated_at,
    ),
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
    # The caller's role in the document's workspace: None for a guest.
    workspace_role: Role | None = None


def split_tags(dialect: str, joined: str | None) -> list[str]:
    """The tags column of `document_with_role(dialect, with_tags=True)`, sorted by name."""
    if not joined:
        return []
    tags = joined.split(TAG_SEPARATOR)
    return tags if dialect == "postgresql" else sorted(tags)


def document_with_role(dialect: str, *, with_tags: bool = False) -> Any:
    """The statement behind every grant, reading `:document_id` and `:user_id`: the document's
    columns, the caller's workspace role and document role, then (`with_tags`) the joined tags
    and whether the update log is ahead of the saved content."""
    return _WITH_TAGS.get(dialect, _DOCUMENT_WITH_ROLE) if with_tags else _DOCUMENT_WITH_ROLE


def grant_role(
    visibility: str,
    workspace_role: str | None,
    document_role: str | None,
    deleted_at: datetime | None,
    minimum: Role,
    *,
    allow_trashed: bool = False,
) -> Role:
    """The caller's role on one row of `document_with_role`: 404 when the document is hidden
    from the caller or trashed (unless allowed), 403 when the role is below `minimum`."""
    role = effective_role(visibility, workspace_role, document_role)
    if role is None or (deleted_at is not None and not allow_trashed):
        raise NotFound("Document not found", code="not_found")
    return require_role(role, minimum, "Document")


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
    statement = document_with_role(dialect, with_tags=with_tags)
    row = (await session.execute(statement, params)).first()
    if row is None:
        raise NotFound("Document not found", code="not_found")
    document: Document = row[0]
    role = grant_role(
        document.visibility,
        row[1],
        row[2],
        document.deleted_at,
        minimum,
        allow_trashed=allow_trashed,
    )
    return DocumentGrant(
        document=document,
        role=role,
        tags=split_tags(dialect, row[3]) if len(row) > 3 else None,
        content_behind=bool(row[4]) if len(row) > 4 else False,
        workspace_role=None if row[1] is None else Role(row[1]),
    )


async def roles_on_document(
    session: AsyncSession, document_id: uuid.UUID, user_ids: set[uuid.UUID]
) -> dict[uuid.UUID, Role]:
    """The role of each of `user_ids` on the live document; those who may not see it are left
    out (for open sockets checking again after an access change)."""
    roles: dict[uuid.UUID, Role] = {}
    for user_id in user_ids:
        try:
            grant = await document_grant(session, user_id, document_id, Role.VIEWER)
        except NotFound:
            continue
        roles[user_id] = grant.role
    return roles
