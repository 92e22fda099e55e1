"""Restricting a document and listing people on it: workspace members and guests.

A guest is a person with an account who is not a member of the document's workspace: listed
on a document, they see it (and only what it holds) with their document role. An email with no
account answers 404 `user_not_found`, as inviting to a workspace does: the person signs up
first, then is added. Every change tells open sockets on the document to check again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.documents import repository
from cowrite.documents.deps import DocumentAccess
from cowrite.documents.visibility import Visibility
from cowrite.kit.errors import Conflict, Forbidden, NotFound
from cowrite.kit.events import DocumentAccessChanged, DocumentShared
from cowrite.models import Document, DocumentMember, User
from cowrite.shares import service as shares
from cowrite.workspaces.outbox import EventOutbox
from cowrite.workspaces.roles import Role

# Hostile input is bounded: a document lists at most this many people.
MAX_DOCUMENT_MEMBERS = 500


@dataclass(frozen=True, slots=True)
class ListedPerson:
    user_id: uuid.UUID
    email: str
    full_name: str
    role: Role
    # Their role in the document's workspace; None for a guest.
    workspace_role: Role | None
    added_by: uuid.UUID | None
    added_at: datetime

    @property
    def guest(self) -> bool:
        return self.workspace_role is None


async def _changed(session: AsyncSession, document: Document, outbox: EventOutbox) -> None:
    """Open sockets check again; links whose creator lost edit rights here stop working."""
    outbox.add(DocumentAccessChanged(document_id=document.id, workspace_id=document.workspace_id))
    await shares.revoke_links_creators_lost(
        session, outbox, document.workspace_id, document_id=document.id
    )


def _require_manager(access: DocumentAccess) -> None:
    if not access.role.at_least(Role.EDITOR):
        raise Forbidden("Requires the editor role on this document", code="forbidden")


async def list_people(session: AsyncSession, document: Document) -> list[ListedPerson]:
    rows = await repository.listed_people(session, document)
    return [_person(member, user, role) for member, user, role in rows]


def _person(member: DocumentMember, user: User, workspace_role: str | None) -> ListedPerson:
    return ListedPerson(
        user_id=user.id,
        email=user.email,
        full_name=user.full_name,
        role=Role(member.role),
        workspace_role=None if workspace_role is None else Role(workspace_role),
        added_by=member.added_by,
        added_at=member.added_at,
    )


async def _one(session: AsyncSession, document: Document, user_id: uuid.UUID) -> ListedPerson:
    row = await repository.listed_person(session, document, user_id)
    if row is None:
        raise NotFound("This person is not listed on the document", code="not_found")
    return _person(*row)


async def add_person(
    session: AsyncSession,
    access: DocumentAccess,
    role: Role,
    outbox: EventOutbox,
    *,
    user_id: uuid.UUID | None = None,
    email: str | None = None,
) -> ListedPerson:
    _require_manager(access)
    document = access.document
    user = await repository.user_by_id_or_email(session, user_id, email)
    if user is None:
        raise NotFound("No user with this email or id", code="user_not_found")
    if await repository.document_member(session, document.id, user.id) is not None:
        raise Conflict("Already listed on this document", code="already_listed")
    if await repository.count_document_members(session, document.id) >= MAX_DOCUMENT_MEMBERS:
        raise Conflict(
            f"A document lists at most {MAX_DOCUMENT_MEMBERS} people", code="too_many_members"
        )
    session.add(
        DocumentMember(
            document_id=document.id,
            user_id=user.id,
            role=role.value,
            added_by=access.principal.user_id,
        )
    )
    try:
        await session.flush()
    except IntegrityError as exc:  # listed by a concurrent request
        raise Conflict("Already listed on this document", code="already_listed") from exc
    await _changed(session, document, outbox)
    if user.id != access.principal.user_id:
        outbox.add(
            DocumentShared(document.id, document.workspace_id, user.id, access.principal.user_id)
        )
    return await _one(session, document, user.id)


async def change_person(
    session: AsyncSession,
    access: DocumentAccess,
    user_id: uuid.UUID,
    role: Role,
    outbox: EventOutbox,
) -> ListedPerson:
    _require_manager(access)
    member = await repository.document_member(session, access.document.id, user_id)
    if member is None:
        raise NotFound("This person is not listed on the document", code="not_found")
    if member.role != role.value:
        member.role = role.value
        await session.flush()
        await _changed(session, access.document, outbox)
    return await _one(session, access.document, user_id)


async def remove_person(
    session: AsyncSession, access: DocumentAccess, user_id: uuid.UUID, outbox: EventOutbox
) -> None:
    """Take someone off the document; taking yourself off is leaving, which anyone may do."""
    if user_id != access.principal.user_id:
        _require_manager(access)
    member = await repository.document_member(session, access.document.id, user_id)
    if member is None:
        raise NotFound("This person is not listed on the document", code="not_found")
    await session.delete(member)
    await session.flush()
    await _changed(session, access.document, outbox)


async def set_visibility(
    session: AsyncSession, access: DocumentAccess, visibility: str, outbox: EventOutbox
) -> None:
    """Open the document to its workspace or restrict it. Whoever restricts it keeps it: a
    member below admin is listed as its editor."""
    document = access.document
    if document.visibility == visibility:
        return
    document.visibility = visibility
    actor = access.principal.user_id
    sees_all = access.workspace_role is not None and access.workspace_role.at_least(Role.ADMIN)
    if visibility == Visibility.RESTRICTED and not sees_all:
        member = await repository.document_member(session, document.id, actor)
        if member is None:
            session.add(
                DocumentMember(
                    document_id=document.id, user_id=actor, role=Role.EDITOR.value, added_by=actor
                )
            )
        elif member.role != Role.EDITOR.value:
            member.role = Role.EDITOR.value
    await session.flush()
    await _changed(session, document, outbox)
