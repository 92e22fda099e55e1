"""Load a document together with the caller's role in its workspace (REST and sockets alike)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.errors import NotFound
from cowrite.models import Document, Membership, Workspace
from cowrite.workspaces.access import require_role
from cowrite.workspaces.roles import Role

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


@dataclass(frozen=True, slots=True)
class DocumentGrant:
    document: Document
    role: Role


async def document_grant(
    session: AsyncSession,
    user_id: uuid.UUID,
    document_id: uuid.UUID,
    minimum: Role,
    *,
    allow_trashed: bool = False,
) -> DocumentGrant:
    """404 when the document does not exist, is hidden from the caller, or is trashed (unless
    allowed); 403 when the caller may see it but lacks `minimum`."""
    result = await session.execute(
        _DOCUMENT_WITH_ROLE, {"document_id": document_id, "user_id": user_id}
    )
    row = result.first()
    if row is None:
        raise NotFound("Document not found", code="not_found")
    document, role = row
    if document.deleted_at is not None and not allow_trashed:
        raise NotFound("Document not found", code="not_found")
    return DocumentGrant(document=document, role=require_role(Role(role), minimum, "Document"))
