"""Typed authorization dependencies for routes with a `{document_id}` in the path."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from cowrite.auth.deps import CurrentUser, Principal
from cowrite.deps import DbSession
from cowrite.documents.access import document_grant
from cowrite.kit.errors import Forbidden
from cowrite.models import Document
from cowrite.workspaces.roles import Role


@dataclass(frozen=True, slots=True)
class DocumentAccess:
    principal: Principal
    document: Document
    role: Role
    # The document's tags, sorted, when the dependency was asked to load them.
    tags: list[str] | None = None
    # With the tags: whether the update log is ahead of the saved content.
    content_behind: bool = False
    # The caller's role in the document's workspace; None for a guest.
    workspace_role: Role | None = None


def document_access(
    minimum: Role, *, allow_trashed: bool = False, with_tags: bool = False
) -> Callable[..., Awaitable[DocumentAccess]]:
    async def dependency(
        document_id: uuid.UUID, principal: CurrentUser, session: DbSession
    ) -> DocumentAccess:
        grant = await document_grant(
            session,
            principal.user_id,
            document_id,
            minimum,
            allow_trashed=allow_trashed,
            with_tags=with_tags,
        )
        return DocumentAccess(
            principal=principal,
            document=grant.document,
            role=grant.role,
            tags=grant.tags,
            content_behind=grant.content_behind,
            workspace_role=grant.workspace_role,
        )

    return dependency


DocumentViewer = Annotated[DocumentAccess, Depends(document_access(Role.VIEWER))]
# A viewer's access that also brings the document's tags, in the same query.
DocumentReader = Annotated[DocumentAccess, Depends(document_access(Role.VIEWER, with_tags=True))]
DocumentEditor = Annotated[DocumentAccess, Depends(document_access(Role.EDITOR))]
DocumentAdmin = Annotated[DocumentAccess, Depends(document_access(Role.ADMIN))]
# For routes that act on the trash (restore, permanent delete).
TrashedDocumentEditor = Annotated[
    DocumentAccess, Depends(document_access(Role.EDITOR, allow_trashed=True))
]
TrashedDocumentAdmin = Annotated[
    DocumentAccess, Depends(document_access(Role.ADMIN, allow_trashed=True))
]


async def _deletion_access(
    document_id: uuid.UUID,
    principal: CurrentUser,
    session: DbSession,
    permanent: Annotated[bool, Query()] = False,
) -> DocumentAccess:
    """Moving to the trash takes an editor; deleting for good (from the trash) an admin."""
    if permanent:
        grant = await document_grant(
            session, principal.user_id, document_id, Role.ADMIN, allow_trashed=True
        )
    else:
        grant = await document_grant(session, principal.user_id, document_id, Role.EDITOR)
    return DocumentAccess(principal=principal, document=grant.document, role=grant.role)


async def _restore_access(
    document_id: uuid.UUID, principal: CurrentUser, session: DbSession
) -> DocumentAccess:
    """Editors restore what they trashed themselves; admins restore anything."""
    grant = await document_grant(
        session, principal.user_id, document_id, Role.EDITOR, allow_trashed=True
    )
    document = grant.document
    trashed_by_other = document.deleted_at is not None and document.deleted_by != principal.user_id
    if trashed_by_other and not grant.role.at_least(Role.ADMIN):
        raise Forbidden("Only an admin may restore what someone else trashed")
    return DocumentAccess(principal=principal, document=document, role=grant.role)


DocumentDeletion = Annotated[DocumentAccess, Depends(_deletion_access)]
RestorableDocument = Annotated[DocumentAccess, Depends(_restore_access)]
