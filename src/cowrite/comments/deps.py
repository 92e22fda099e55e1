"""Typed authorization dependencies for comment routes.

Reading follows the document (viewer+); commenting and reacting take a commenter; editing is
the author's; deleting the author's or an admin's; resolving the thread author's or an editor's.
A comment of a hidden, trashed or missing document is 404, as the document is."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from cowrite.auth.deps import CurrentUser, Principal
from cowrite.comments import repository
from cowrite.deps import DbSession
from cowrite.documents.access import document_grant
from cowrite.documents.deps import DocumentAccess, document_access
from cowrite.kit.errors import Forbidden, NotFound
from cowrite.models import Comment, Document
from cowrite.workspaces.roles import Role


@dataclass(frozen=True, slots=True)
class CommentAccess:
    principal: Principal
    document: Document
    comment: Comment
    role: Role

    @property
    def user_id(self) -> uuid.UUID:
        return self.principal.user_id


Rule = Callable[[CommentAccess], bool]


def _is_author(access: CommentAccess) -> bool:
    return access.comment.author_id == access.user_id and access.role.at_least(Role.COMMENTER)


def comment_access(
    rule: Rule, refusal: str, *, thread: bool = False
) -> Callable[..., Awaitable[CommentAccess]]:
    """The comment (or, with `thread`, its thread's first comment) and the caller's role,
    locked for change; 403 when `rule` refuses a caller who may see it."""

    async def dependency(
        comment_id: uuid.UUID, principal: CurrentUser, session: DbSession
    ) -> CommentAccess:
        comment = await repository.get(session, comment_id)
        if comment is None:
            raise NotFound("Comment not found", code="not_found")
        grant = await document_grant(session, principal.user_id, comment.document_id, Role.VIEWER)
        if thread and comment.parent_id is not None:
            comment = await repository.get(session, comment.parent_id) or comment
        locked = await repository.lock(session, comment.id)
        if locked is None:
            raise NotFound("Comment not found", code="not_found")
        access = CommentAccess(principal, grant.document, locked, grant.role)
        if not rule(access):
            raise Forbidden(refusal, code="forbidden")
        return access

    return dependency


CommentAuthor = Annotated[
    CommentAccess, Depends(comment_access(_is_author, "Only the author may edit a comment"))
]
CommentDeleter = Annotated[
    CommentAccess,
    Depends(
        comment_access(
            lambda a: _is_author(a) or a.role.at_least(Role.ADMIN),
            "Only the author or an admin may delete a comment",
        )
    ),
]
ThreadResolver = Annotated[
    CommentAccess,
    Depends(
        comment_access(
            lambda a: _is_author(a) or a.role.at_least(Role.EDITOR),
            "Only the thread's author or an editor may resolve it",
            thread=True,
        )
    ),
]
CommentReactor = Annotated[
    CommentAccess,
    Depends(
        comment_access(lambda a: a.role.at_least(Role.COMMENTER), "Requires the commenter role")
    ),
]
DocumentCommenter = Annotated[DocumentAccess, Depends(document_access(Role.COMMENTER))]
