"""The typed state a running app holds, built by the lifespan and reached through dependencies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cowrite.auth.liveness import LoginLiveness
from cowrite.config import Settings
from cowrite.kit.events import EventHub

if TYPE_CHECKING:
    from cowrite.auth.passwords import PasswordHasher
    from cowrite.auth.throttle import LoginThrottle
    from cowrite.auth.tokens import TokenService
    from cowrite.broker.base import Broker
    from cowrite.jobs.runner import JobRunner
    from cowrite.notifications.dispatch import NotificationDispatcher
    from cowrite.observability import Metrics
    from cowrite.oidc.client import OidcClient


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
    # Filled by the features that own them (files, presence, co-editing) during start-up.
    # Sessions for requests that only read (GET, HEAD): on SQLite a separate engine whose
    # transactions do not take the write lock; elsewhere the same factory as writers.
    read_session_factory: async_sessionmaker[AsyncSession] | None = None
    storage: Any = None
    presence: Any = None
    collab: Any = None
    notifications: NotificationDispatcher | None = None
    comments: Any = None
    background: list[Any] = field(default_factory=list)
    # Set on SIGTERM: new sockets are turned away with 503 and /ready answers 503.
    draining: bool = False
    jobs: JobRunner | None = None
    # The single sign-on provider, when one is configured.
    oidc: OidcClient | None = None
    # Logins recently found live, so most requests skip the login query (see auth.liveness).
    logins: LoginLiveness = field(default_factory=LoginLiveness)

    @property
    def reader_factory(self) -> async_sessionmaker[AsyncSession]:
        return self.read_session_factory or self.session_factory


# A feature plugs into start-up with a coroutine that receives the state and an exit stack for
# its own clean-up (background tasks, sockets, rooms); the stack unwinds at shutdown.
Startup = Callable[[AppState, AsyncExitStack], Awaitable[None]]
