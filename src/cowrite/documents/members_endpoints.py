"""/api/v1/documents/{id}/members: the people listed on a (restricted) document."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, model_validator

from cowrite.auth.deps import CurrentUser
from cowrite.auth.schemas import Email
from cowrite.deps import DbSession
from cowrite.documents import members, repository
from cowrite.documents.deps import DocumentViewer
from cowrite.documents.members import ListedPerson
from cowrite.documents.schemas import StrictBody
from cowrite.kit.pagination import (
    Page,
    PageParams,
    decode_time_cursor,
    next_cursor_for,
    page_params,
)
from cowrite.workspaces.outbox import PendingEvents
from cowrite.workspaces.roles import Role

router = APIRouter(tags=["documents"])

MEMBERS = "/api/v1/documents/{document_id}/members"
SHARED_WITH_ME = "/api/v1/users/me/shared-documents"
DocumentRole = Literal["editor", "commenter", "viewer"]


class DocumentMemberCreate(StrictBody):
    """Who to list, by `user_id` or by `email` (one of the two), and their role here."""

    user_id: uuid.UUID | None = None
    email: Email | None = None
    role: DocumentRole

    @model_validator(mode="after")
    def _one_person(self) -> DocumentMemberCreate:
        if (self.user_id is None) == (self.email is None):
            raise ValueError("Give either user_id or email")
        return self


class DocumentMemberUpdate(StrictBody):
    role: DocumentRole


class DocumentMemberOut(BaseModel):
    user_id: uuid.UUID
    email: str
    full_name: str
    role: DocumentRole
    # Why they have access: listed as a workspace member, or as a guest from outside it.
    guest: bool
    workspace_role: Role | None
    added_by: uuid.UUID | None
    added_at: datetime


class SharedDocumentOut(BaseModel):
    """A document the caller is listed on: the home of a guest, who has no workspace list."""

    id: uuid.UUID
    title: str
    format: str
    visibility: str
    workspace_id: uuid.UUID
    workspace_name: str
    role: DocumentRole
    guest: bool
    shared_at: datetime
    updated_at: datetime


def _out(person: ListedPerson) -> DocumentMemberOut:
    return DocumentMemberOut(
        user_id=person.user_id,
        email=person.email,
        full_name=person.full_name,
        role=person.role.value,  # type: ignore[arg-type]  # a document role by the table's check
        guest=person.guest,
        workspace_role=person.workspace_role,
        added_by=person.added_by,
        added_at=person.added_at,
    )


@router.get(MEMBERS, response_model=list[DocumentMemberOut])
async def list_members(access: DocumentViewer, session: DbSession) -> list[DocumentMemberOut]:
    return [_out(person) for person in await members.list_people(session, access.document)]


@router.post(MEMBERS, status_code=status.HTTP_201_CREATED, response_model=DocumentMemberOut)
async def add_member(
    body: DocumentMemberCreate, access: DocumentViewer, session: DbSession, outbox: PendingEvents
) -> DocumentMemberOut:
    person = await members.add_person(
        session, access, Role(body.role), outbox, user_id=body.user_id, email=body.email
    )
    return _out(person)


@router.patch(f"{MEMBERS}/{{user_id}}", response_model=DocumentMemberOut)
async def change_member(
    user_id: uuid.UUID,
    body: DocumentMemberUpdate,
    access: DocumentViewer,
    session: DbSession,
    outbox: PendingEvents,
) -> DocumentMemberOut:
    return _out(await members.change_person(session, access, user_id, Role(body.role), outbox))


@router.delete(f"{MEMBERS}/{{user_id}}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    user_id: uuid.UUID, access: DocumentViewer, session: DbSession, outbox: PendingEvents
) -> Response:
    await members.remove_person(session, access, user_id, outbox)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(SHARED_WITH_ME, response_model=Page[SharedDocumentOut])
async def shared_with_me(
    principal: CurrentUser, session: DbSession, page: Annotated[PageParams, Depends(page_params)]
) -> Page[SharedDocumentOut]:
    rows = await repository.shared_with(
        session, principal.user_id, page.limit, decode_time_cursor(page.cursor)
    )
    items, cursor = next_cursor_for(rows, page.limit, lambda row: (row[3], row[0].id))
    return Page(
        items=[
            SharedDocumentOut(
                id=document.id,
                title=document.title,
                format=document.format,
                visibility=document.visibility,
                workspace_id=document.workspace_id,
                workspace_name=workspace_name,
                role=role,  # type: ignore[arg-type]  # a document role by the table's check
                guest=workspace_role is None,
                shared_at=added_at,
                updated_at=document.updated_at,
            )
            for document, workspace_name, role, added_at, workspace_role in items
        ],
        next_cursor=cursor,
    )
