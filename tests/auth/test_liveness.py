"""The in-process memory of live logins: revocations win over it, it never outlives its time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.auth.liveness import LoginLiveness
from cowrite.kit.events import EventHub, LoginsRevoked
from cowrite.models import User


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def a_user() -> User:
    return User(
        id=uuid.uuid4(),
        email="ada@example.com",
        full_name="Ada",
        password_hash="x",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


async def test_a_remembered_login_comes_back_without_a_query_until_its_time_is_up() -> None:
    clock = Clock()
    cache = LoginLiveness(5.0, clock=clock)
    user, login = a_user(), uuid.uuid4()
    cache.remember(login, user)
    async with AsyncSession() as session:
        found = cache.user(session, login, user.id)
        assert found is not None and found.full_name == "Ada" and found in session
        assert cache.user(session, login, uuid.uuid4()) is None  # another user's token
    clock.now += 5.0
    async with AsyncSession() as session:
        assert cache.user(session, login, user.id) is None


async def test_a_revocation_forgets_the_login_and_keeps_it_out() -> None:
    clock = Clock()
    hub = EventHub()
    cache = LoginLiveness(5.0, clock=clock)
    cache.attach(hub)
    user, login, other = a_user(), uuid.uuid4(), uuid.uuid4()
    cache.remember(login, user)
    cache.remember(other, user)
    await hub.emit(LoginsRevoked(user_id=user.id, login_ids=(login,)))
    # A query that read the login before the revocation committed cannot bring it back.
    cache.remember(login, user)
    async with AsyncSession() as session:
        assert cache.user(session, login, user.id) is None
        assert cache.user(session, other, user.id) is not None


async def test_a_profile_change_is_read_again() -> None:
    cache = LoginLiveness(5.0)
    user, login = a_user(), uuid.uuid4()
    cache.remember(login, user)
    cache.forget_user(user.id)
    async with AsyncSession() as session:
        assert cache.user(session, login, user.id) is None


def test_the_memory_is_bounded() -> None:
    cache = LoginLiveness(5.0, max_entries=3)
    user = a_user()
    logins = [uuid.uuid4() for _ in range(10)]
    for login in logins:
        cache.remember(login, user)
    assert len(cache) == 3
