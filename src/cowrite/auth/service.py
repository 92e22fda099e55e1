"""Account flows: register, login, refresh rotation with reuse detection, logout, passwords."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.auth import repository
from cowrite.auth.passwords import password_problem
from cowrite.auth.schemas import TokenPair
from cowrite.auth.tokens import REFRESH
from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import Conflict, TooManyRequests, Unauthorized, Unprocessable
from cowrite.kit.events import LoginsRevoked
from cowrite.kit.useragent import device_type
from cowrite.models import Login, User
from cowrite.state import AppState


@dataclass(frozen=True, slots=True)
class ClientInfo:
    address: str
    user_agent: str


def _check_password(password: str, email: str | None) -> None:
    problem = password_problem(password, email)
    if problem:
        raise Unprocessable(problem, code="weak_password")


async def register(
    state: AppState,
    session: AsyncSession,
    email: str,
    password: str,
    full_name: str,
    client: ClientInfo | None = None,
) -> User:
    """A new account; `client` (absent for the operator's CLI) is throttled per address."""
    _check_password(password, email)
    if client is not None:
        await _throttle_registration(state, client.address)
    # Hashed before the session's first statement: no write transaction waits on the hash.
    password_hash = await state.passwords.hash(password)
    if await repository.user_by_email(session, email):
        raise Conflict("Email is already registered", code="email_taken")
    user = User(email=email, full_name=full_name, password_hash=password_hash)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise Conflict("Email is already registered", code="email_taken") from exc
    return user


async def _throttle_registration(state: AppState, address: str) -> None:
    """Every registration counts against its address, as a failed login does."""
    key = f"register:addr:{address}"
    wait = await state.throttle.retry_after([(key, state.settings.register_max_per_address)])
    if wait:
        raise TooManyRequests(
            "Too many registrations from this address; try again later",
            code="register_throttled",
            headers={"Retry-After": str(wait)},
        )
    await state.throttle.record_failure([key])


def _throttle_keys(email: str, address: str) -> tuple[str, str, str]:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"login:pair:{digest}:{address}", f"login:addr:{address}", f"login:acct:{digest}"


async def login(
    state: AppState, session: AsyncSession, email: str, password: str, client: ClientInfo
) -> TokenPair:
    settings = state.settings
    pair, by_address, by_account = _throttle_keys(email, client.address)
    # The account-wide key allows many more failures than the pair: it only slows an attack
    # spread over many addresses, and like every key it locks for at most the maximum lockout.
    wait = await state.throttle.retry_after(
        [
            (pair, settings.login_max_failures_per_account),
            (by_address, settings.login_max_failures_per_address),
            (by_account, settings.login_max_failures_per_account * 20),
        ]
    )
    if wait:
        raise TooManyRequests(
            "Too many failed logins; try again later",
            code="login_throttled",
            headers={"Retry-After": str(wait)},
        )
    # The check reads through its own read-only session: the password is verified (and a
    # rehash computed) before the writer's transaction opens.
    async with unit_of_work(state.reader_factory) as reader:
        found = await repository.user_by_email(reader, email.strip().lower())
    ok = await state.passwords.verify(found.password_hash if found else None, password)
    if not found or not ok:
        await state.throttle.record_failure([pair, by_address, by_account])
        raise Unauthorized("Invalid email or password", code="invalid_credentials")
    await state.throttle.reset([pair])
    rehashed = None
    if state.passwords.needs_rehash(found.password_hash):
        rehashed = await state.passwords.hash(password)
    user = await repository.user_by_id(session, found.id)
    if user is None:
        raise Unauthorized("Invalid email or password", code="invalid_credentials")
    if rehashed is not None:
        user.password_hash = rehashed
    return await _start_login(state, session, user, client)


async def start_login(
    state: AppState, session: AsyncSession, user: User, client: ClientInfo
) -> TokenPair:
    """A new login (token pair) for a user who proved who they are another way (single sign-on)."""
    return await _start_login(state, session, user, client)


async def _start_login(
    state: AppState, session: AsyncSession, user: User, client: ClientInfo
) -> TokenPair:
    jti = state.tokens.new_jti()
    entry = Login(
        user_id=user.id,
        refresh_jti=jti,
        expires_at=utcnow() + timedelta(seconds=state.tokens.refresh_ttl),
        user_agent=client.user_agent[:512],
        client_address=client.address[:64],
        device_type=device_type(client.user_agent),
    )
    session.add(entry)
    await session.flush()
    return _pair(state, user.id, entry.id, jti)


def _pair(state: AppState, user_id: uuid.UUID, login_id: uuid.UUID, jti: str) -> TokenPair:
    return TokenPair(
        access_token=state.tokens.access_token(user_id, login_id),
        refresh_token=state.tokens.refresh_token(user_id, login_id, jti),
        expires_in=state.tokens.access_ttl,
    )


async def refresh(state: AppState, session: AsyncSession, refresh_token: str) -> TokenPair:
    claims = state.tokens.decode(refresh_token, REFRESH)
    entry = await repository.login_by_id(session, claims.login_id)
    if entry is None or entry.user_id != claims.user_id or entry.revoked_at is not None:
        raise Unauthorized("Login has ended", code="invalid_token")
    if _within_grace(state, entry, claims.jti):
        # The answer to this token's rotation never arrived (a reload, another tab): hand out
        # the login's current pair again rather than ending it.
        return _pair(state, claims.user_id, entry.id, entry.refresh_jti)
    new_jti = state.tokens.new_jti()
    expires_at = utcnow() + timedelta(seconds=state.tokens.refresh_ttl)
    if entry.refresh_jti != claims.jti or not await repository.rotate_refresh(
        session, entry.id, claims.jti, new_jti, expires_at
    ):
        # A rotated token came back: someone holds a copy. End the whole login.
        await revoke(state, session, claims.user_id, [entry.id])
        await session.commit()
        raise Unauthorized("Refresh token was already used; login revoked", code="token_reused")
    return _pair(state, claims.user_id, entry.id, new_jti)


def _within_grace(state: AppState, entry: Login, jti: str) -> bool:
    """Whether `jti` is the refresh id rotated out moments ago."""
    if entry.previous_refresh_jti != jti or entry.rotated_at is None:
        return False
    age = (utcnow() - entry.rotated_at).total_seconds()
    return age <= state.settings.refresh_reuse_grace_seconds


async def logout(state: AppState, session: AsyncSession, refresh_token: str) -> None:
    claims = state.tokens.decode(refresh_token, REFRESH)
    entry = await repository.login_by_id(session, claims.login_id)
    if entry is None or entry.user_id != claims.user_id:
        raise Unauthorized("Login has ended", code="invalid_token")
    await revoke(state, session, claims.user_id, [entry.id])


async def revoke(
    state: AppState,
    session: AsyncSession,
    user_id: uuid.UUID,
    login_ids: list[uuid.UUID] | None,
    *,
    keep: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Revoke logins and tell open sockets (after the caller's commit is the safe order, but
    closing a socket early only errs on the side of caution)."""
    revoked = await repository.revoke_logins(session, user_id, login_ids, keep=keep)
    if revoked:
        await session.flush()
        await state.events.emit(LoginsRevoked(user_id=user_id, login_ids=tuple(revoked)))
    return revoked


async def change_password(
    state: AppState,
    session: AsyncSession,
    user: User,
    login_id: uuid.UUID,
    current_password: str,
    new_password: str,
) -> None:
    if not await state.passwords.verify(user.password_hash, current_password):
        raise Unauthorized("Current password is wrong", code="invalid_credentials")
    _check_password(new_password, user.email)
    user.password_hash = await state.passwords.hash(new_password)
    state.logins.forget_user(user.id)
    await revoke(state, session, user.id, None, keep=login_id)
