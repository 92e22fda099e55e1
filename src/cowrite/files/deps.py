"""Typed authorization dependencies for routes with a `{file_id}` in the path."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from cowrite.auth.deps import CurrentUser, Principal
from cowrite.deps import DbSession
from cowrite.files.access import file_grant, require_may_delete
from cowrite.models import StoredFile
from cowrite.workspaces.roles import Role


@dataclass(frozen=True, slots=True)
class FileAccess:
    principal: Principal
    file: StoredFile
    role: Role


async def _file_viewer(
    file_id: uuid.UUID, principal: CurrentUser, session: DbSession
) -> FileAccess:
    grant = await file_grant(session, principal.user_id, file_id, Role.VIEWER)
    return FileAccess(principal=principal, file=grant.file, role=grant.role)


async def _file_deleter(
    file_id: uuid.UUID, principal: CurrentUser, session: DbSession
) -> FileAccess:
    grant = await file_grant(session, principal.user_id, file_id, Role.VIEWER)
    require_may_delete(grant, principal.user_id)
    return FileAccess(principal=principal, file=grant.file, role=grant.role)


FileViewer = Annotated[FileAccess, Depends(_file_viewer)]
FileDeleter = Annotated[FileAccess, Depends(_file_deleter)]
