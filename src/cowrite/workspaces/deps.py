"""Typed authorization dependencies for routes with a `{workspace_id}` in the path."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from cowrite.auth.deps import CurrentUser, Principal
from cowrite.deps import DbSession
from cowrite.kit.errors import NotFound
from cowrite.models import Workspace
from cowrite.workspaces.access import require_role, workspace_with_role
from cowrite.workspaces.roles import Role


@dataclass(frozen=True, slots=True)
class WorkspaceAccess:
    """The caller, the live workspace of the path and the caller's role in it (checked)."""

    principal: Principal
    workspace: Workspace
    role: Role


def workspace_access(minimum: Role) -> Callable[..., Awaitable[WorkspaceAccess]]:
    """A dependency: 404 for non-members and deleted workspaces, 403 below `minimum`."""

    async def dependency(
        workspace_id: uuid.UUID, principal: CurrentUser, session: DbSession
    ) -> WorkspaceAccess:
        found = await workspace_with_role(session, principal.user_id, workspace_id)
        if found is None:
            raise NotFound("Workspace not found", code="not_found")
        workspace, role = found
        return WorkspaceAccess(
            principal=principal, workspace=workspace, role=require_role(role, minimum)
        )

    return dependency


WorkspaceViewer = Annotated[WorkspaceAccess, Depends(workspace_access(Role.VIEWER))]
WorkspaceEditor = Annotated[WorkspaceAccess, Depends(workspace_access(Role.EDITOR))]
WorkspaceAdmin = Annotated[WorkspaceAccess, Depends(workspace_access(Role.ADMIN))]
WorkspaceOwner = Annotated[WorkspaceAccess, Depends(workspace_access(Role.OWNER))]
