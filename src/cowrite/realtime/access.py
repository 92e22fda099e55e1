"""The one place where sockets learn that someone's access shrank, for `/ws` and `/ws/yjs`.

`AccessWatch` (`state.access`, made with the state) subscribes once to the domain events that
take access away and hands each on as one typed `AccessChange`:

    state.access.listen(listener)    # listener(change) -> None, or an awaitable; in order added
    state.access.unlisten(listener)  # at the feature's shutdown
    with state.access.admitting() as ticket:
        ticket.user_id = ...         # once the token names the user (narrows what concerns it)
        ...                          # read the grant, write the session, join
    if ticket.changed:               # a change came between the grant's read and the join:
        ...                          # read the grant again (`regrant`) before the first message

A listener acts on the sockets (or calls, rooms, ...) it holds for `change.user_id` within
`change.workspace_id` / `change.document_id` (None there means "any"); `change.close_code` is
what a socket that must go is closed with (None: it stays, `change.role` is the workspace role it
keeps; `change.rereads` says the role on each document must be read again, as a document's own
list of people or its visibility may decide it).
A ticket covers the window a listener cannot: the socket is admitted but not yet where the
listeners look. Changes made in another process arrive here through the broker's events.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum

from cowrite.kit.events import (
    DocumentAccessChanged,
    DocumentTrashed,
    EventHub,
    LoginsRevoked,
    MembershipChanged,
    SharesRevoked,
    WorkspaceDeleted,
)
from cowrite.realtime.codes import CloseCode
from cowrite.workspaces.roles import Role

log = logging.getLogger(__name__)


class Loss(StrEnum):
    ROLE_CHANGED = "role_changed"  # still a member, maybe with fewer rights
    REMOVED = "access_revoked"
    WORKSPACE_DELETED = "workspace_deleted"
    DOCUMENT_TRASHED = "document_trashed"
    LOGINS_REVOKED = "login_revoked"
    DOCUMENT_ACCESS_CHANGED = "document_access_changed"  # restricted/opened, people listed
    SHARE_REVOKED = "share_revoked"  # share links stopped working (their anonymous readers go)


_CLOSE = {
    Loss.REMOVED: CloseCode.FORBIDDEN,
    Loss.WORKSPACE_DELETED: CloseCode.NOT_FOUND,
    Loss.DOCUMENT_TRASHED: CloseCode.NOT_FOUND,
    Loss.LOGINS_REVOKED: CloseCode.UNAUTHENTICATED,
    Loss.SHARE_REVOKED: CloseCode.FORBIDDEN,
}


@dataclass(frozen=True, slots=True)
class AccessChange:
    loss: Loss
    user_id: uuid.UUID | None = None  # None: everyone in the scope
    workspace_id: uuid.UUID | None = None
    document_id: uuid.UUID | None = None
    role: Role | None = None  # the role kept (ROLE_CHANGED)
    login_ids: frozenset[uuid.UUID] = frozenset()  # the logins ended (LOGINS_REVOKED)
    share_ids: frozenset[uuid.UUID] = frozenset()  # the links revoked (SHARE_REVOKED)

    @property
    def close_code(self) -> CloseCode | None:
        return _CLOSE.get(self.loss)

    @property
    def rereads(self) -> bool:
        """Whether a socket that stays must read its role on its document again."""
        return self.loss in (Loss.ROLE_CHANGED, Loss.DOCUMENT_ACCESS_CHANGED)

    def concerns(
        self,
        user_id: uuid.UUID | None,
        login_id: uuid.UUID | None = None,
        share_id: uuid.UUID | None = None,
    ) -> bool:
        """Whether this may touch that user's (or that login's) access; unknown ids: yes. A
        revoked link concerns only the sockets that came in through it (`share_id`)."""
        if self.loss is Loss.SHARE_REVOKED:
            return share_id in self.share_ids
        if share_id is not None:  # an anonymous reader: only what takes the document from all
            return self.loss in (Loss.WORKSPACE_DELETED, Loss.DOCUMENT_TRASHED)
        if self.user_id is not None and user_id is not None and self.user_id != user_id:
            return False
        return self.loss is not Loss.LOGINS_REVOKED or login_id in (None, *self.login_ids)


AccessListener = Callable[[AccessChange], Awaitable[None] | None]


class AdmissionTicket:
    """A socket between its grant's read and the place listeners find it."""

    __slots__ = ("changed", "user_id")

    def __init__(self) -> None:
        self.user_id: uuid.UUID | None = None
        self.changed = False


class AccessWatch:
    def __init__(self, events: EventHub) -> None:
        self._listeners: list[AccessListener] = []
        self._tickets: set[AdmissionTicket] = set()
        events.subscribe(MembershipChanged, self._on_membership)
        events.subscribe(WorkspaceDeleted, self._on_workspace_deleted)
        events.subscribe(DocumentTrashed, self._on_document_trashed)
        events.subscribe(LoginsRevoked, self._on_logins_revoked)
        events.subscribe(SharesRevoked, self._on_shares_revoked)
        events.subscribe(DocumentAccessChanged, self._on_document_access_changed)

    def listen(self, listener: AccessListener) -> None:
        self._listeners.append(listener)

    def unlisten(self, listener: AccessListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    @contextmanager
    def admitting(self) -> Iterator[AdmissionTicket]:
        ticket = AdmissionTicket()
        self._tickets.add(ticket)
        try:
            yield ticket
        finally:
            self._tickets.discard(ticket)

    async def publish(self, change: AccessChange) -> None:
        """Note the change on every ticket it may concern, then tell every listener."""
        for ticket in self._tickets:
            # a ticket does not know its link yet: any revocation may concern it
            if change.loss is Loss.SHARE_REVOKED or change.concerns(ticket.user_id):
                ticket.changed = True
        for listener in list(self._listeners):
            try:
                result = listener(change)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("an access listener failed on %s", change.loss)

    async def _on_membership(self, event: MembershipChanged) -> None:
        role = None if event.role is None else Role(event.role)
        loss = Loss.REMOVED if role is None else Loss.ROLE_CHANGED
        await self.publish(AccessChange(loss, event.user_id, event.workspace_id, role=role))

    async def _on_workspace_deleted(self, event: WorkspaceDeleted) -> None:
        await self.publish(AccessChange(Loss.WORKSPACE_DELETED, workspace_id=event.workspace_id))

    async def _on_document_trashed(self, event: DocumentTrashed) -> None:
        change = AccessChange(Loss.DOCUMENT_TRASHED, None, event.workspace_id, event.document_id)
        await self.publish(change)

    async def _on_logins_revoked(self, event: LoginsRevoked) -> None:
        ids = frozenset(event.login_ids)
        await self.publish(AccessChange(Loss.LOGINS_REVOKED, event.user_id, login_ids=ids))

    async def _on_shares_revoked(self, event: SharesRevoked) -> None:
        ids = frozenset(event.share_ids)
        await self.publish(AccessChange(Loss.SHARE_REVOKED, share_ids=ids))

    async def _on_document_access_changed(self, event: DocumentAccessChanged) -> None:
        change = AccessChange(
            Loss.DOCUMENT_ACCESS_CHANGED, None, event.workspace_id, event.document_id
        )
        await self.publish(change)
