"""The one rule for who sees a document and with which role.

A document whose `visibility` is "workspace" is seen by every member of its workspace, with their
workspace role. A "restricted" one is seen by the workspace's admins and owners and by the people
listed in `document_members` (workspace members or guests from outside), with their document
role. Being listed on an open document can only add: the higher of the two roles counts. A
document of a deleted workspace is seen by nobody.

`effective_role` decides for one row; `visible_to` is the same rule as a SQL clause over any
table of documents, for lists, counts, search and notifications; `visible_sql` renders that
clause for the statements written in SQL text; `member_of_live` is what is left of it for what
concerns a workspace and no document. Each repository filters with these and nothing else.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    literal_column,
    or_,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, aliased
from sqlalchemy.sql.elements import KeyedColumnElement

from cowrite.models import Document, DocumentMember, Membership, User, Workspace
from cowrite.workspaces.roles import Role

# The caller: an id, a bound parameter, or a column (a correlated check for many people at once).
UserRef = BindParameter[Any] | ColumnElement[Any] | InstrumentedAttribute[Any] | uuid.UUID


class Visibility(StrEnum):
    WORKSPACE = "workspace"
    RESTRICTED = "restricted"


# What a listed person may be given on one document.
DOCUMENT_ROLES = (Role.VIEWER, Role.COMMENTER, Role.EDITOR)
_SEES_EVERYTHING = (Role.ADMIN.value, Role.OWNER.value)
# Constants as SQL literals, so the clause renders to text with `:user_id` as its only parameter.
_OPEN: ColumnElement[str] = literal_column(f"'{Visibility.WORKSPACE.value}'")
_ADMIN_ROLES: list[ColumnElement[str]] = [literal_column(f"'{role}'") for role in _SEES_EVERYTHING]


def effective_role(
    visibility: str, workspace_role: str | None, document_role: str | None
) -> Role | None:
    """The caller's role on one document of a live workspace, or None when it is hidden."""
    if workspace_role in _SEES_EVERYTHING:
        return Role(workspace_role)
    if visibility == Visibility.RESTRICTED:
        return None if document_role is None else Role(document_role)
    if workspace_role is None:
        return None if document_role is None else Role(document_role)
    if document_role is None:
        return Role(workspace_role)
    return max(Role(workspace_role), Role(document_role), key=lambda role: role.rank)


def _live_workspaces_of(user: UserRef, *, admin: bool) -> Any:
    query = (
        select(Membership.workspace_id)
        .join(Workspace, Workspace.id == Membership.workspace_id)
        .where(Membership.user_id == user, Workspace.deleted_at.is_(None))
    )
    return query.where(Membership.role.in_(_ADMIN_ROLES)) if admin else query


def member_of_live(
    user: UserRef, workspace_id: ColumnElement[Any] | InstrumentedAttribute[Any]
) -> ColumnElement[bool]:
    """A clause true where `workspace_id` (a column) is a live workspace `user` is a member of:
    who may see what concerns a workspace itself rather than one of its documents."""
    return workspace_id.in_(_live_workspaces_of(user, admin=False))


def visible_to(
    user: UserRef,
    *,
    documents: Any = Document,
    workspace_role: Role | None = None,
) -> ColumnElement[bool]:
    """A clause true for the rows of `documents` (the Document table or an alias of it) that
    `user` may see. With `workspace_role`, the caller's known role in the one live workspace the
    query is already limited to, the clause is cheaper (no membership lookups)."""
    listed = select(DocumentMember.document_id).where(DocumentMember.user_id == user)
    document_id: KeyedColumnElement[Any] = documents.id
    is_open = documents.visibility == _OPEN
    if workspace_role is not None:
        if workspace_role.value in _SEES_EVERYTHING:
            return true()
        return or_(is_open, document_id.in_(listed))
    live = select(Workspace.id).where(Workspace.deleted_at.is_(None))
    return or_(
        and_(is_open, documents.workspace_id.in_(_live_workspaces_of(user, admin=False))),
        documents.workspace_id.in_(_live_workspaces_of(user, admin=True)),
        and_(document_id.in_(listed), documents.workspace_id.in_(live)),
    )


@cache
def visible_sql(dialect: str, alias: str, workspace_role: Role | None = None) -> str:
    """`visible_to` as SQL text over the documents aliased `alias`, reading `:user_id`; for the
    statements written by hand (search). `workspace_role` as for `visible_to`."""
    documents = aliased(Document, name=alias)
    clause = visible_to(bindparam("user_id"), documents=documents, workspace_role=workspace_role)
    compiled_for = postgresql.dialect if dialect == "postgresql" else sqlite.dialect
    compiled = str(clause.compile(dialect=compiled_for(paramstyle="named")))
    # PostgreSQL's compiler casts the parameter (`:user_id::UUID`), which SQL text would not
    # read as a parameter; the statements bind it as a UUID themselves.
    return "(" + compiled.replace(":user_id::UUID", ":user_id") + ")"


def viewers_among(document_id: uuid.UUID, user_ids: Collection[uuid.UUID]) -> Select[Any]:
    """The ids among `user_ids` who may see the live document `document_id` (for notifications
    and mentions: nobody hears of a document they cannot open)."""
    return (
        select(User.id)
        .join(Document, Document.id == document_id)
        .where(
            User.id.in_(list(user_ids)),
            Document.deleted_at.is_(None),
            visible_to(User.id),
        )
    )
