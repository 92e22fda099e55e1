"""Authorization for search: the optional `workspace_id` filter must be one of the caller's."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query

from cowrite.auth.deps import CurrentUser, Principal
from cowrite.deps import DbSession
from cowrite.workspaces.access import require_role, role_in_workspace
from cowrite.workspaces.roles import Role


@dataclass(frozen=True, slots=True)
class SearchScope:
    principal: Principal
    workspace_id: uuid.UUID | None
    # The caller's role in that workspace (None when no workspace is named).
    workspace_role: Role | None = None


async def search_scope(
    principal: CurrentUser,
    session: DbSession,
    workspace_id: Annotated[uuid.UUID | None, Query()] = None,
) -> SearchScope:
    """Every workspace of the caller, or the one named, which must be theirs (else 404)."""
    if workspace_id is None:
        return SearchScope(principal=principal, workspace_id=None)
    role = await role_in_workspace(session, principal.user_id, workspace_id)
    return SearchScope(principal, workspace_id, require_role(role, Role.VIEWER))


SearchAccess = Annotated[SearchScope, Depends(search_scope)]
