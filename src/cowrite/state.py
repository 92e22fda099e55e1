"""The typed state a running app holds, built by the lifespan and reached through dependencies."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cowrite.auth.liveness import LoginLiveness
from cowrite.config import Settings
from cowrite.kit.events import EventHub
from cowrite.kit.usage import UsageTally
from cowrite.realtime.access import AccessWatch

if TYPE_CHECKING:
    from pycrdt import Doc, Text

    from cowrite.auth.passwords import PasswordHasher
    from cowrite.auth.throttle import LoginThrottle
    from cowrite.auth.tokens import TokenService
    from cowrite.broker.base import Broker
    from cowrite.comments.limits import CommentLimiter
    from cowrite.jobs.runner import JobRunner
    from cowrite.notifications.dispatch import NotificationDispatcher
    from cowrite.observability import Metrics
    from cowrite.oidc.client import OidcClient
    from cowrite.presence.manager import ConnectionManager
    from cowrite.presence.store import PresenceEntry
    from cowrite.richtext.schema import Json
    from cowrite.shares.tokens import ShareAccessTokens
    from cowrite.storage.base import BlobStore


class PresenceHooks(Protocol):
    """What other features need from presence (`state.presence`)."""

    @property
    def manager(self) -> ConnectionManager:
        """The local `/ws` connections: per-user pushes and document-room broadcasts."""
        ...

    async def track_external(self, entry: PresenceEntry) -> None:
        """A connection of another socket (Yjs) entered a document's presence list."""
        ...

    async def untrack_external(self, document_id: uuid.UUID, connection_id: uuid.UUID) -> None: ...


class LiveDocument(Protocol):
    """An open co-editing room as other features see it: its document and text, live."""

    @property
    def doc(self) -> Doc: ...

    @property
    def text(self) -> Text: ...


class CoEditingHooks(Protocol):
    """What other features need from co-editing (`state.collab`): REST writes merged into the
    live document, its live text for comment anchors, and the shutdown hand-over."""

    async def replace_text(
        self,
        session: AsyncSession,
        document_id: uuid.UUID,
        text: str,
        author_id: uuid.UUID | None,
        base: str | None = None,
    ) -> str: ...

    async def replace_rich(
        self,
        session: AsyncSession,
        document_id: uuid.UUID,
        document: Json,
        author_id: uuid.UUID | None,
    ) -> str: ...

    async def rich_json(self, session: AsyncSession, document_id: uuid.UUID) -> Json: ...

    def live_markdown(self, document_id: uuid.UUID) -> str | None:
        """The body of a room open in this process, as it will be saved; None without one."""
        ...

    async def stored_markdown(self, session: AsyncSession, document_id: uuid.UUID) -> str:
        """The body as the snapshot and update log hold it."""
        ...

    def note_read(self, document_id: uuid.UUID, text: str) -> None:
        """A REST reader was handed `text` (its next write's base)."""
        ...

    def live_room(self, document_id: uuid.UUID) -> LiveDocument | None:
        """The document's room when one is open in this process."""
        ...

    async def going_away(self, within: float) -> None: ...


@dataclass
class AppState:
    """Everything a running process shares; built once by the lifespan."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    events: EventHub
    broker: Broker
    passwords: PasswordHasher
    tokens: TokenService
    throttle: LoginThrottle
    process_id: str
    metrics: Metrics
    # Sessions for requests that only read (GET, HEAD): on SQLite a separate engine whose
    # transactions do not take the write lock; on PostgreSQL the same pool in autocommit.
    read_session_factory: async_sessionmaker[AsyncSession] | None = None
    # Filled by the features that own them during start-up.
    storage: BlobStore | None = None
    presence: PresenceHooks | None = None
    collab: CoEditingHooks | None = None
    notifications: NotificationDispatcher | None = None
    comments: CommentLimiter | None = None
    background: list[asyncio.Task[None]] = field(default_factory=list)
    # Set on SIGTERM: new sockets are turned away with 503 and /ready answers 503.
    draining: bool = False
    jobs: JobRunner | None = None
    # The single sign-on provider, when one is configured.
    oidc: OidcClient | None = None
    # Share links: what signs unlock tokens, and uses counted in memory (links, API tokens).
    share_access: ShareAccessTokens | None = None
    share_usage: UsageTally | None = None
    token_usage: UsageTally | None = None
    # Logins recently found live, so most requests skip the login query (see auth.liveness).
    logins: LoginLiveness = field(default_factory=LoginLiveness)
    # Where sockets (and whatever else hangs on access) learn that access shrank.
    access: AccessWatch = field(init=False)

    def __post_init__(self) -> None:
        self.access = AccessWatch(self.events)

    @property
    def blobs(self) -> BlobStore:
        """The blob store, for features that run after the files feature's start-up."""
        assert self.storage is not None
        return self.storage

    @property
    def reader_factory(self) -> async_sessionmaker[AsyncSession]:
        return self.read_session_factory or self.session_factory


# A feature plugs into start-up with a coroutine that receives the state and an exit stack for
# its own clean-up (background tasks, sockets, rooms); the stack unwinds at shutdown.
Startup = Callable[[AppState, AsyncExitStack], Awaitable[None]]
