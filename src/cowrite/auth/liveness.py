"""Logins known to be live in this process, so an authenticated request need not ask the database.

A login found live is remembered for a few seconds. A revocation ends that at once: every
process hears of it as a `LoginsRevoked` event (carried between processes by the broker) and
forgets the login. A revoked login is also kept on a short list of its own, so a query that read
the login before the revocation committed cannot put it back. Should the event never arrive (the
broker away for longer than its outbox and journal cover), the entry still ends after `ttl`.

A busy login is read again shortly before its entry ends, by one request (`claim_refresh`),
while the others go on trusting the entry: without that, every request in flight when it ends
would ask the database at the same moment.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from cowrite.kit.events import EventHub, LoginsRevoked
from cowrite.models import User

# How long a login stays known live without asking the database again.
DEFAULT_TTL_SECONDS = 5.0
# How long before its end one request reads a busy login again (at most half the ttl).
REFRESH_AHEAD_SECONDS = 1.0
# How long a revoked login is refused a place in the cache (far longer than any query takes).
REVOKED_MEMORY_SECONDS = 60.0
MAX_ENTRIES = 20_000

_USER_COLUMNS = tuple(attr.key for attr in sa_inspect(User).column_attrs)


class LoginLiveness:
    """(login, user) pairs recently confirmed live, with a snapshot of the user's columns."""

    def __init__(
        self,
        ttl: float = DEFAULT_TTL_SECONDS,
        *,
        max_entries: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        # login id -> (user id, column values, valid until)
        self._live: OrderedDict[uuid.UUID, tuple[uuid.UUID, dict[str, Any], float]] = OrderedDict()
        # login id -> when it was revoked (clock time)
        self._revoked: OrderedDict[uuid.UUID, float] = OrderedDict()
        # Logins one request was sent to read again: `user` answers None for them until then.
        self._claimed: set[uuid.UUID] = set()

    def __len__(self) -> int:
        return len(self._live)

    def attach(self, events: EventHub) -> None:
        """Forget logins as they are revoked, here or (through the broker) in other processes."""
        events.subscribe(LoginsRevoked, self.on_logins_revoked)

    def detach(self, events: EventHub) -> None:
        events.unsubscribe(LoginsRevoked, self.on_logins_revoked)

    def is_live(self, login_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Whether the login of `user_id` is known live (no query, nothing built)."""
        entry = self._live.get(login_id)
        return entry is not None and entry[0] == user_id and self._clock() < entry[2]

    def claim_refresh(self, login_id: uuid.UUID) -> bool:
        """True, once, when the login's entry is about to end: the caller should have it read
        again (through `user`, which answers None for it until it is remembered anew)."""
        entry = self._live.get(login_id)
        if entry is None or login_id in self._claimed:
            return False
        if self._clock() < entry[2] - min(REFRESH_AHEAD_SECONDS, self.ttl / 2):
            return False
        self._claimed.add(login_id)
        return True

    def user(self, session: AsyncSession, login_id: uuid.UUID, user_id: uuid.UUID) -> User | None:
        """The login's user, placed in `session` without a query, when known live; else None."""
        if login_id in self._claimed or not self.is_live(login_id, user_id):
            return None
        columns = self._live[login_id][1]
        existing = session.identity_map.get(
            sa_inspect(User).identity_key_from_primary_key((user_id,))
        )
        if isinstance(existing, User):
            return existing
        user = User(**columns)
        make_transient_to_detached(user)
        session.add(user)
        return user

    def remember(self, login_id: uuid.UUID, user: User) -> None:
        """Note that the login was just found live (unless it was revoked meanwhile)."""
        if self.ttl <= 0:
            return
        now = self._clock()
        self._prune_revoked(now)
        self._claimed.discard(login_id)
        if login_id in self._revoked:
            return
        columns = {key: getattr(user, key) for key in _USER_COLUMNS}
        self._live[login_id] = (user.id, columns, now + self.ttl)
        self._live.move_to_end(login_id)
        while len(self._live) > self.max_entries:
            self._claimed.discard(self._live.popitem(last=False)[0])

    def forget_user(self, user_id: uuid.UUID) -> None:
        """Drop every entry of a user (their profile changed)."""
        for login_id in [k for k, entry in self._live.items() if entry[0] == user_id]:
            del self._live[login_id]
            self._claimed.discard(login_id)

    def on_logins_revoked(self, event: LoginsRevoked) -> None:
        now = self._clock()
        for login_id in event.login_ids:
            self._live.pop(login_id, None)
            self._claimed.discard(login_id)
            self._revoked[login_id] = now
            self._revoked.move_to_end(login_id)
        self._prune_revoked(now)

    def _prune_revoked(self, now: float) -> None:
        while self._revoked:
            at = next(iter(self._revoked.values()))
            if now - at < REVOKED_MEMORY_SECONDS and len(self._revoked) <= self.max_entries:
                break
            self._revoked.popitem(last=False)
