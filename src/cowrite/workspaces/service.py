"""Workspace and membership rules: who may grant, change or remove which role.

Every change to memberships locks the workspace first and re-reads the caller's role under that
lock, so two concurrent requests can never leave a workspace without an owner.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.clock import utcnow
from cowrite.kit.errors import BadRequest, Conflict, Forbidden, NotFound
from cowrite.kit.events import (
    MemberAdded,
    MemberRoleChanged,
    MembershipChanged,
    WorkspaceDeleted,
)
from cowrite.kit.pagination import decode_cursor, next_cursor_for
from cowrite.models import Membership, User, Workspace
from cowrite.shares import service as shares
from cowrite.webhooks.events import enqueue_event
from cowrite.workspaces import repository
from cowrite.workspaces.outbox import EventOutbox
from cowrite.workspaces.roles import Role


@dataclass(frozen=True, slots=True)
class WorkspaceView:
    workspace: Workspace
    role: Role


@dataclass(frozen=True, slots=True)
class MemberView:
    membership: Membership
    user: User

    @property
    def role(self) -> Role:
        return Role(self.membership.role)


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    value, row_id = decode_cursor(cursor)
    try:
        return datetime.fromisoformat(str(value)), row_id
    except ValueError as exc:
        raise BadRequest("Invalid cursor", code="invalid_cursor") from exc


async def create_workspace(
    session: AsyncSession, user_id: uuid.UUID, name: str, description: str | None
) -> WorkspaceView:
    workspace = Workspace(name=name, description=description, created_by=user_id)
    session.add(workspace)
    await session.flush()
    session.add(Membership(workspace_id=workspace.id, user_id=user_id, role=Role.OWNER.value))
    await session.flush()
    return WorkspaceView(workspace, Role.OWNER)


async def list_workspaces(
    session: AsyncSession, user_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[WorkspaceView], str | None]:
    rows = await repository.workspaces_of_user(session, user_id, limit + 1, _after(cursor))
    page, next_cursor = next_cursor_for(rows, limit, lambda row: (row[0].created_at, row[0].id))
    return [WorkspaceView(workspace, Role(role)) for workspace, role in page], next_cursor


async def update_workspace(
    session: AsyncSession, workspace: Workspace, changes: dict[str, str | bool | None]
) -> Workspace:
    for field, value in changes.items():
        setattr(workspace, field, value)
    await session.flush()
    return workspace


async def delete_workspace(
    session: AsyncSession, workspace: Workspace, outbox: EventOutbox
) -> None:
    """Soft delete: the workspace and everything in it become unreachable at once."""
    if await repository.lock_live_workspace(session, workspace.id) is None:
        raise NotFound("Workspace not found", code="not_found")
    workspace.deleted_at = utcnow()
    await session.flush()
    outbox.add(WorkspaceDeleted(workspace_id=workspace.id))


async def purge_deleted_workspaces(
    session: AsyncSession, retention_days: int, limit: int = 100
) -> list[uuid.UUID]:
    """For the maintenance job: remove workspaces deleted over `retention_days` ago. Blobs of
    their files are left to the storage clean-up, which removes blobs that have no row."""
    deleted_before = utcnow() - timedelta(days=retention_days)
    return await repository.purge_deleted_workspaces(session, deleted_before, limit)


async def list_members(
    session: AsyncSession, workspace_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[MemberView], str | None]:
    rows = await repository.members(session, workspace_id, limit + 1, _after(cursor))
    page, next_cursor = next_cursor_for(rows, limit, lambda row: (row[0].joined_at, row[0].user_id))
    return [MemberView(membership, user) for membership, user in page], next_cursor


async def _actor(session: AsyncSession, workspace_id: uuid.UUID, actor_id: uuid.UUID) -> Membership:
    """Lock the workspace and read the caller's membership as it is now."""
    if await repository.lock_live_workspace(session, workspace_id) is None:
        raise NotFound("Workspace not found", code="not_found")
    found = await repository.membership(session, workspace_id, actor_id)
    if found is None:
        raise NotFound("Workspace not found", code="not_found")
    return found


async def _target(session: AsyncSession, workspace_id: uuid.UUID, user_id: uuid.UUID) -> MemberView:
    found = await repository.member(session, workspace_id, user_id)
    if found is None:
        raise NotFound("Member not found", code="member_not_found")
    return MemberView(*found)


def _member_data(user: User, role: Role, actor_id: uuid.UUID) -> dict[str, object]:
    """What a webhook hears about a member."""
    return {
        "user_id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "role": role.value,
        "actor_id": actor_id,
    }


def _require(actor: Role, minimum: Role) -> None:
    if not actor.at_least(minimum):
        raise Forbidden(f"Requires the {minimum.value} role", code="forbidden")


def _check_grant(actor: Role, role: Role) -> None:
    if role is Role.OWNER and actor is not Role.OWNER:
        raise Forbidden("Only an owner can make owners", code="owner_required")


def _check_touch(actor: Role, target: Role) -> None:
    if target is Role.OWNER and actor is not Role.OWNER:
        raise Forbidden("Only an owner can change or remove an owner", code="owner_required")


async def _check_not_last_owner(
    session: AsyncSession, workspace_id: uuid.UUID, target: Role
) -> None:
    if target is Role.OWNER and await repository.count_owners(session, workspace_id) <= 1:
        raise Conflict("A workspace needs at least one owner", code="last_owner")


async def add_member(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    actor_id: uuid.UUID,
    email: str,
    role: Role,
    outbox: EventOutbox,
) -> MemberView:
    actor = Role((await _actor(session, workspace_id, actor_id)).role)
    _require(actor, Role.ADMIN)
    _check_grant(actor, role)
    user = await repository.user_by_email(session, email)
    if user is None:
        raise NotFound("No user with this email", code="user_not_found")
    if await repository.membership(session, workspace_id, user.id) is not None:
        raise Conflict("Already a member of this workspace", code="already_member")
    membership = Membership(workspace_id=workspace_id, user_id=user.id, role=role.value)
    session.add(membership)
    try:
        await session.flush()
    except IntegrityError as exc:  # added by a concurrent request
        raise Conflict("Already a member of this workspace", code="already_member") from exc
    outbox.add(MembershipChanged(workspace_id=workspace_id, user_id=user.id, role=role.value))
    outbox.add(MemberAdded(workspace_id, user.id, role.value, actor_id))
    await enqueue_event(session, workspace_id, "member.added", _member_data(user, role, actor_id))
    return MemberView(membership, user)


async def change_role(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    actor_id: uuid.UUID,
    user_id: uuid.UUID,
    role: Role,
    outbox: EventOutbox,
) -> MemberView:
    actor = Role((await _actor(session, workspace_id, actor_id)).role)
    _require(actor, Role.ADMIN)
    target = await _target(session, workspace_id, user_id)
    if target.role is role:
        return target
    if user_id == actor_id and role.rank > actor.rank:
        raise Forbidden("Nobody can raise their own role", code="own_role")
    _check_touch(actor, target.role)
    _check_grant(actor, role)
    await _check_not_last_owner(session, workspace_id, target.role)
    target.membership.role = role.value
    await session.flush()
    await shares.revoke_links_creators_lost(session, outbox, workspace_id, creator_id=user_id)
    outbox.add(MembershipChanged(workspace_id=workspace_id, user_id=user_id, role=role.value))
    outbox.add(MemberRoleChanged(workspace_id, user_id, role.value, actor_id))
    return target


async def remove_member(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    actor_id: uuid.UUID,
    user_id: uuid.UUID,
    outbox: EventOutbox,
) -> None:
    """Remove a member; removing yourself is leaving, which any member may do."""
    actor = Role((await _actor(session, workspace_id, actor_id)).role)
    target = await _target(session, workspace_id, user_id)
    if user_id != actor_id:
        _require(actor, Role.ADMIN)
        _check_touch(actor, target.role)
    await _check_not_last_owner(session, workspace_id, target.role)
    await session.delete(target.membership)
    await repository.drop_document_listings(session, workspace_id, user_id)
    await session.flush()
    await shares.revoke_links_creators_lost(session, outbox, workspace_id, creator_id=user_id)
    data = _member_data(target.user, target.role, actor_id)
    await enqueue_event(session, workspace_id, "member.removed", data)
    outbox.add(MembershipChanged(workspace_id=workspace_id, user_id=user_id, role=None))


async def transfer_ownership(
    session: AsyncSession,
    workspace: Workspace,
    actor_id: uuid.UUID,
    user_id: uuid.UUID,
    outbox: EventOutbox,
) -> WorkspaceView:
    """The target member becomes an owner and the caller steps down to admin."""
    caller = await _actor(session, workspace.id, actor_id)
    _require(Role(caller.role), Role.OWNER)
    if user_id == actor_id:
        raise Conflict("You already own this workspace", code="transfer_to_self")
    target = await _target(session, workspace.id, user_id)
    if target.role is not Role.OWNER:  # handing over to a co-owner only steps the caller down
        target.membership.role = Role.OWNER.value
        outbox.add(MembershipChanged(workspace_id=workspace.id, user_id=user_id, role="owner"))
        outbox.add(MemberRoleChanged(workspace.id, user_id, "owner", actor_id))
    caller.role = Role.ADMIN.value
    await session.flush()
    outbox.add(MembershipChanged(workspace_id=workspace.id, user_id=actor_id, role="admin"))
    return WorkspaceView(workspace, Role.ADMIN)
