"""/api/v1/workspaces: workspaces, their members and ownership."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from cowrite.auth.deps import CurrentUser
from cowrite.deps import DbSession
from cowrite.kit.pagination import MAX_LIMIT, Page, PageParams, page_params
from cowrite.shares.service import revoke_workspace_links
from cowrite.state import AppState
from cowrite.workspaces import service
from cowrite.workspaces.deps import WorkspaceAdmin, WorkspaceOwner, WorkspaceViewer
from cowrite.workspaces.jobs import start_workspace_purge
from cowrite.workspaces.outbox import PendingEvents
from cowrite.workspaces.schemas import (
    MemberCreate,
    MemberOut,
    MemberUpdate,
    OwnershipTransfer,
    WorkspaceCreate,
    WorkspaceOut,
    WorkspaceUpdate,
)

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])

Paging = Annotated[PageParams, Depends(page_params)]


def _workspace_out(view: service.WorkspaceView) -> WorkspaceOut:
    workspace = view.workspace
    return WorkspaceOut(
        id=workspace.id,
        name=workspace.name,
        description=workspace.description,
        role=view.role,
        created_at=workspace.created_at,
        updated_at=workspace.updated_at,
        allow_public_shares=workspace.allow_public_shares,
    )


def _member_out(view: service.MemberView) -> MemberOut:
    return MemberOut(
        user_id=view.user.id,
        email=view.user.email,
        full_name=view.user.full_name,
        role=view.role,
        joined_at=view.membership.joined_at,
    )


# The contract writes the collection routes as `POST /` and `GET /`: they answer with the slash
# too, rather than redirecting (a client that does not follow a 307 would fail on it).
@router.post("", status_code=status.HTTP_201_CREATED, response_model=WorkspaceOut)
@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_model=WorkspaceOut,
    include_in_schema=False,
)
async def create_workspace(
    body: WorkspaceCreate, principal: CurrentUser, session: DbSession
) -> WorkspaceOut:
    view = await service.create_workspace(session, principal.user_id, body.name, body.description)
    return _workspace_out(view)


@router.get("", response_model=Page[WorkspaceOut])
@router.get("/", response_model=Page[WorkspaceOut], include_in_schema=False)
async def list_workspaces(
    principal: CurrentUser, session: DbSession, paging: Paging
) -> Page[WorkspaceOut]:
    views, next_cursor = await service.list_workspaces(
        session, principal.user_id, paging.limit, paging.cursor
    )
    return Page(items=[_workspace_out(view) for view in views], next_cursor=next_cursor)


@router.get("/{workspace_id}", response_model=WorkspaceOut)
async def get_workspace(access: WorkspaceViewer) -> WorkspaceOut:
    return _workspace_out(service.WorkspaceView(access.workspace, access.role))


@router.patch("/{workspace_id}", response_model=WorkspaceOut)
async def update_workspace(
    body: WorkspaceUpdate, access: WorkspaceAdmin, session: DbSession, events: PendingEvents
) -> WorkspaceOut:
    workspace = await service.update_workspace(
        session, access.workspace, body.model_dump(exclude_unset=True)
    )
    if body.allow_public_shares is False:
        await revoke_workspace_links(session, workspace.id, events)
    return _workspace_out(service.WorkspaceView(workspace, access.role))


@router.delete("/{workspace_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_workspace(
    access: WorkspaceOwner, session: DbSession, events: PendingEvents
) -> Response:
    await service.delete_workspace(session, access.workspace, events)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{workspace_id}/members", response_model=list[MemberOut])
async def list_members(
    access: WorkspaceViewer,
    session: DbSession,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = MAX_LIMIT,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> list[MemberOut]:
    """A bare array, as the contract gives it; a longer list continues from `X-Next-Cursor`."""
    views, next_cursor = await service.list_members(session, access.workspace.id, limit, cursor)
    if next_cursor:
        response.headers["X-Next-Cursor"] = next_cursor
    return [_member_out(view) for view in views]


@router.post(
    "/{workspace_id}/members", status_code=status.HTTP_201_CREATED, response_model=MemberOut
)
async def add_member(
    body: MemberCreate, access: WorkspaceAdmin, session: DbSession, events: PendingEvents
) -> MemberOut:
    view = await service.add_member(
        session, access.workspace.id, access.principal.user_id, body.email, body.role, events
    )
    return _member_out(view)


@router.patch("/{workspace_id}/members/{user_id}", response_model=MemberOut)
async def change_member_role(
    user_id: uuid.UUID,
    body: MemberUpdate,
    access: WorkspaceAdmin,
    session: DbSession,
    events: PendingEvents,
) -> MemberOut:
    view = await service.change_role(
        session, access.workspace.id, access.principal.user_id, user_id, body.role, events
    )
    return _member_out(view)


@router.delete("/{workspace_id}/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    user_id: uuid.UUID, access: WorkspaceViewer, session: DbSession, events: PendingEvents
) -> Response:
    """Remove a member (admin+), or leave when `user_id` is your own."""
    await service.remove_member(
        session, access.workspace.id, access.principal.user_id, user_id, events
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{workspace_id}/transfer-ownership", response_model=WorkspaceOut)
async def transfer_ownership(
    body: OwnershipTransfer, access: WorkspaceOwner, session: DbSession, events: PendingEvents
) -> WorkspaceOut:
    """Make another member an owner; the caller becomes an admin."""
    view = await service.transfer_ownership(
        session, access.workspace, access.principal.user_id, body.user_id, events
    )
    return _workspace_out(view)


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    """Purge workspaces soft-deleted longer ago than the trash retention, in the background."""
    await start_workspace_purge(state, stack)
