"""In-process domain events: services emit, transports (sockets, broker) listen.

Handlers run in emit order and may be sync or async. A handler that fails is logged and
does not stop the others: an event never undoes the change that caused it.
"""

from __future__ import annotations

import inspect
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

log = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[Any], Awaitable[None] | None]


@dataclass(frozen=True, slots=True)
class MembershipChanged:
    """A member's role changed (role set) or the member left or was removed (role None)."""

    workspace_id: UUID
    user_id: UUID
    role: str | None


@dataclass(frozen=True, slots=True)
class WorkspaceDeleted:
    workspace_id: UUID


@dataclass(frozen=True, slots=True)
class LoginsRevoked:
    """These logins (refresh families) were ended: logout, password change, reuse, revocation."""

    user_id: UUID
    login_ids: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class DocumentAccessChanged:
    """Who may see a document, or with which role, changed (its visibility, its listed
    people, or its coming back from the trash): open sockets on it check again."""

    document_id: UUID
    workspace_id: UUID


@dataclass(frozen=True, slots=True)
class DocumentTrashed:
    document_id: UUID
    workspace_id: UUID


@dataclass(frozen=True, slots=True)
class SharesRevoked:
    """These share links stopped working (revoked, or public sharing turned off)."""

    share_ids: tuple[UUID, ...]


class EventHub:
    """Typed publish/subscribe inside one process; the broker carries events between processes."""

    def __init__(self) -> None:
        self._handlers: dict[type, list[Handler]] = defaultdict(list)

    def subscribe(
        self, event_type: type[E], handler: Callable[[E], Awaitable[None] | None]
    ) -> None:
        self._handlers[event_type].append(handler)

    def unsubscribe(
        self, event_type: type[E], handler: Callable[[E], Awaitable[None] | None]
    ) -> None:
        handlers = self._handlers.get(event_type, [])
        if handler in handlers:
            handlers.remove(handler)

    async def emit(self, event: object) -> None:
        for handler in list(self._handlers.get(type(event), ())):
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("event handler failed for %s", type(event).__name__)


# Events for notifications: emitted in the process that made the change, never bridged (every
# process would otherwise notify once more).


@dataclass(frozen=True, slots=True)
class DocumentEdited:
    """Someone changed a document's title or content (REST, or co-editing saved)."""

    document_id: UUID
    workspace_id: UUID
    actor_id: UUID


@dataclass(frozen=True, slots=True)
class MemberAdded:
    workspace_id: UUID
    user_id: UUID
    role: str
    actor_id: UUID


@dataclass(frozen=True, slots=True)
class MemberRoleChanged:
    workspace_id: UUID
    user_id: UUID
    role: str
    actor_id: UUID


@dataclass(frozen=True, slots=True)
class CommentPosted:
    """A comment was committed: a new thread (parent_id None) or a reply in thread_id."""

    document_id: UUID
    comment_id: UUID
    thread_id: UUID
    parent_id: UUID | None
    actor_id: UUID
    excerpt: str
    mentioned_user_ids: tuple[UUID, ...]


@dataclass(frozen=True, slots=True)
class WebhookTurnedOff:
    """A webhook was turned off by delivery failures (committed): its workspace's admins hear."""

    webhook_id: UUID
    workspace_id: UUID
    url: str
    reason: str


@dataclass(frozen=True, slots=True)
class DocumentShared:
    """Someone listed a person on a document (notifies that person)."""

    document_id: UUID
    workspace_id: UUID
    user_id: UUID
    actor_id: UUID
