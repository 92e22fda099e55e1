"""A busy login is read again by one request shortly before its entry ends, not by all."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.auth.liveness import LoginLiveness
from cowrite.kit.events import EventHub, LoginsRevoked
from tests.auth.test_liveness import Clock, a_user


async def test_one_request_is_sent_to_read_the_login_again_before_its_entry_ends() -> None:
    clock = Clock()
    cache = LoginLiveness(5.0, clock=clock)
    user, login = a_user(), uuid.uuid4()
    cache.remember(login, user)
    assert not cache.claim_refresh(login)  # fresh: nobody needs to read it
    clock.now += 4.5
    assert cache.claim_refresh(login)
    assert not cache.claim_refresh(login)  # only one request is sent
    assert cache.is_live(login, user.id)  # the others go on trusting the entry
    async with AsyncSession() as session:
        assert cache.user(session, login, user.id) is None  # the one sent reads the database
    cache.remember(login, user)
    async with AsyncSession() as session:
        assert cache.user(session, login, user.id) is not None
    clock.now += 3.5  # the new entry has a second more than that before it is due
    assert cache.is_live(login, user.id) and not cache.claim_refresh(login)
    clock.now += 1.0
    assert cache.claim_refresh(login)


async def test_a_claimed_login_that_is_revoked_stays_out() -> None:
    clock = Clock()
    hub = EventHub()
    cache = LoginLiveness(5.0, clock=clock)
    cache.attach(hub)
    user, login = a_user(), uuid.uuid4()
    cache.remember(login, user)
    clock.now += 4.5
    assert cache.claim_refresh(login)
    await hub.emit(LoginsRevoked(user_id=user.id, login_ids=(login,)))
    assert not cache.is_live(login, user.id) and not cache.claim_refresh(login)
    cache.remember(login, user)  # a read from before the revocation
    assert not cache.is_live(login, user.id)


def test_an_unknown_login_is_never_claimed() -> None:
    cache = LoginLiveness(5.0)
    assert not cache.claim_refresh(uuid.uuid4())
