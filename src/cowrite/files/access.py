"""Who may see or remove a file: the workspace role, plus the uploader's claim on their own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents.access import document_grant
from cowrite.files import repository
from cowrite.kit.errors import Forbidden, NotFound
from cowrite.models import StoredFile
from cowrite.workspaces.access import require_role, role_in_workspace
from cowrite.workspaces.roles import Role


@dataclass(frozen=True, slots=True)
class FileGrant:
    file: StoredFile
    role: Role


async def file_grant(
    session: AsyncSession, user_id: uuid.UUID, file_id: uuid.UUID, minimum: Role
) -> FileGrant:
    """404 when the file is missing, hidden from the caller, in a deleted workspace or attached
    to a trashed document; 403 when the caller may see it but lacks `minimum`."""
    stored = await repository.visible_file(session, file_id)
    if stored is None:
        raise NotFound("File not found", code="not_found")
    if stored.document_id is None:
        role = await role_in_workspace(session, user_id, stored.workspace_id)
        return FileGrant(file=stored, role=require_role(role, minimum, "File"))
    # A document's file is seen by whoever sees the document, with their role on it.
    try:
        grant = await document_grant(session, user_id, stored.document_id, Role.VIEWER)
    except NotFound:
        raise NotFound("File not found", code="not_found") from None
    return FileGrant(file=stored, role=require_role(grant.role, minimum, "File"))


def require_may_delete(grant: FileGrant, user_id: uuid.UUID) -> None:
    """Admins remove any file; an editor removes the files they uploaded."""
    if grant.role.at_least(Role.ADMIN):
        return
    if grant.file.uploaded_by == user_id and grant.role.at_least(Role.EDITOR):
        return
    raise Forbidden("Only the uploader or an admin may delete this file", code="forbidden")
