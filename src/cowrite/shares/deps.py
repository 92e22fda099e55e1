"""Who may manage a share link: an editor of its document (trashed documents included)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from cowrite.auth.deps import CurrentUser, Principal
from cowrite.deps import DbSession
from cowrite.documents.access import document_grant
from cowrite.models import ShareLink
from cowrite.shares import service
from cowrite.workspaces.roles import Role


@dataclass(frozen=True, slots=True)
class ShareAccess:
    principal: Principal
    link: ShareLink


async def _share_editor(
    share_id: uuid.UUID, principal: CurrentUser, session: DbSession
) -> ShareAccess:
    link = await service.link_for_revocation(session, share_id)
    await document_grant(
        session, principal.user_id, link.document_id, Role.EDITOR, allow_trashed=True
    )
    return ShareAccess(principal=principal, link=link)


ShareEditor = Annotated[ShareAccess, Depends(_share_editor)]
