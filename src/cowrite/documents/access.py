"""Load a document together with the caller's role in its workspace (REST and sockets alike)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.errors import NotFound
from cowrite.models import Document
from cowrite.workspaces.access import require_role, role_in_workspace
from cowrite.workspaces.roles import Role


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
    document = await session.get(Document, document_id)
    if document is None:
        raise NotFound("Document not found", code="not_found")
    role = await role_in_workspace(session, user_id, document.workspace_id)
    if role is None or (document.deleted_at is not None and not allow_trashed):
        raise NotFound("Document not found", code="not_found")
    return DocumentGrant(document=document, role=require_role(role, minimum, "Document"))
