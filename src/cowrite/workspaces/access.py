"""Who may do what in a workspace: the one place a role is read for an authorization decision."""

from __future__ import annotations

import uuid
from typing import cast

from sqlalchemy import Table, bindparam, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.db import FirstRow
from cowrite.kit.errors import Forbidden, NotFound
from cowrite.models import Membership, Webhook, Workspace
from cowrite.workspaces.roles import Role

# Built once: authorization runs these on most requests, and a prebuilt statement is served
# from SQLAlchemy's compiled cache without rebuilding its cache key.
_MEMBERSHIPS = cast(Table, Membership.__table__)
_WORKSPACE_ROWS = cast(Table, Workspace.__table__)
_MEMBERS = _MEMBERSHIPS.c
_WORKSPACES = _WORKSPACE_ROWS.c
_WEBHOOKS = cast(Table, Webhook.__table__).c
# On the tables' columns, not the mapped classes': a plain SQL statement, without the ORM's
# compile and result steps for a query that loads no object.
_ROLE_IN_WORKSPACE = (
    select(_MEMBERS.role)
    .join_from(_MEMBERSHIPS, _WORKSPACE_ROWS, _WORKSPACES.id == _MEMBERS.workspace_id)
    .where(
        _MEMBERS.workspace_id == bindparam("workspace_id"),
        _MEMBERS.user_id == bindparam("user_id"),
        _WORKSPACES.deleted_at.is_(None),
    )
)
_ROLE_AND_WEBHOOKS = FirstRow(
    _ROLE_IN_WORKSPACE.add_columns(
        exists().where(_WEBHOOKS.workspace_id == _MEMBERS.workspace_id, _WEBHOOKS.active.is_(True))
    )
)
_WORKSPACE_WITH_ROLE = (
    select(Workspace, Membership.role)
    .join(Membership, Membership.workspace_id == Workspace.id)
    .where(
        Workspace.id == bindparam("workspace_id"),
        Membership.user_id == bindparam("user_id"),
        Workspace.deleted_at.is_(None),
    )
)


async def role_in_workspace(
    session: AsyncSession, user_id: uuid.UUID, workspace_id: uuid.UUID
) -> Role | None:
    """The caller's role in a live workspace, or None (not a member, or the workspace is gone)."""
    result = await session.execute(
        _ROLE_IN_WORKSPACE, {"workspace_id": workspace_id, "user_id": user_id}
    )
    role = result.scalar_one_or_none()
    return None if role is None else Role(role)


async def role_and_webhooks(
    session: AsyncSession, user_id: uuid.UUID, workspace_id: uuid.UUID
) -> tuple[Role | None, bool]:
    """`role_in_workspace`, and whether the workspace has an active webhook, in one query: a
    write that raises a webhook event learns both for one statement (the caller then tells
    `cowrite.webhooks.events.note_no_webhooks`)."""
    row = await _ROLE_AND_WEBHOOKS(session, {"workspace_id": workspace_id, "user_id": user_id})
    return (None, False) if row is None else (Role(row[0]), bool(row[1]))


async def workspace_with_role(
    session: AsyncSession, user_id: uuid.UUID, workspace_id: uuid.UUID
) -> tuple[Workspace, Role] | None:
    """A live workspace and the caller's role in it, in one query; None for non-members."""
    result = await session.execute(
        _WORKSPACE_WITH_ROLE, {"workspace_id": workspace_id, "user_id": user_id}
    )
    row = result.first()
    return None if row is None else (row[0], Role(row[1]))


def require_role(role: Role | None, minimum: Role, what: str = "Workspace") -> Role:
    """Non-members learn nothing (404); members below the minimum are refused (403)."""
    if role is None:
        raise NotFound(f"{what} not found", code="not_found")
    if not role.at_least(minimum):
        raise Forbidden(f"Requires the {minimum.value} role", code="forbidden")
    return role
