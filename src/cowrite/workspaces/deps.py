"""Typed authorization dependencies for routes with a `{workspace_id}` in the path."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from cowrite.auth.deps import CurrentUser, Principal
from cowrite.deps import DbSession
from cowrite.models import Workspace
from cowrite.workspaces.access import require_role, role_in_workspace
from cowrite.workspaces.roles import Role


@dataclass(frozen=True, slots=True)
class WorkspaceAccess:
    principal: Principal
    workspace: Workspace
    role: Role


def workspace_access(minimum: Role) -> Callable[..., Awaitable[WorkspaceAccess]]:
    async def dependency(
        workspace_id: uuid.UUID, principal: CurrentUser, session: DbSession
    ) -> WorkspaceAccess:
        role = require_role(
            await role_in_workspace(session, principal.user_id, workspace_id), minimum
        )
        workspace = await session.get(Workspace, workspace_id)
        assert workspace is not None  # role_in_workspace joined it
        return WorkspaceAccess(principal=principal, workspace=workspace, role=role)

    return dependency


WorkspaceViewer = Annotated[WorkspaceAccess, Depends(workspace_access(Role.VIEWER))]
WorkspaceEditor = Annotated[WorkspaceAccess, Depends(workspace_access(Role.EDITOR))]
WorkspaceAdmin = Annotated[WorkspaceAccess, Depends(workspace_access(Role.ADMIN))]
WorkspaceOwner = Annotated[WorkspaceAccess, Depends(workspace_access(Role.OWNER))]
