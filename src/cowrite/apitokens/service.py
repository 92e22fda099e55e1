"""Personal API tokens: made and revoked by their owner, checked on every REST request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.apitokens import repository
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import NotFound, Unauthorized, Unprocessable
from cowrite.kit.secrets import digest, digest_matches, new_secret
from cowrite.models import ApiToken, User
from cowrite.state import AppState

PREFIX = "cwp_"
TOKEN_BYTES = 32  # 256 bits
MAX_TOKEN_LENGTH = 128
READ, WRITE = "read", "write"


def is_api_token(token: str) -> bool:
    return token.startswith(PREFIX)


async def create_token(
    session: AsyncSession,
    user_id: uuid.UUID,
    name: str,
    scopes: Sequence[str],
    expires_at: datetime | None,
) -> tuple[ApiToken, str]:
    """The new token's row and its secret (shown once)."""
    if expires_at is not None and expires_at <= utcnow():
        raise Unprocessable("expires_at: must be in the future", code="validation_error")
    secret = PREFIX + new_secret(TOKEN_BYTES)
    ordered = [scope for scope in (READ, WRITE) if scope in set(scopes)]
    token = ApiToken(
        user_id=user_id,
        name=name,
        token_hash=digest(secret),
        scopes=ordered,
        expires_at=expires_at,
    )
    await repository.add_token(session, token)
    return token, secret


async def list_tokens(
    state: AppState, session: AsyncSession, user_id: uuid.UUID
) -> list[tuple[ApiToken, datetime | None]]:
    """The user's tokens and when each was last used (counting uses this process noted and
    has not written yet)."""
    tokens = await repository.tokens_of(session, user_id)
    usage = state.token_usage
    return [
        (token, usage.latest(token.id, token.last_used_at) if usage else token.last_used_at)
        for token in tokens
    ]


async def revoke_token(session: AsyncSession, user_id: uuid.UUID, token_id: uuid.UUID) -> None:
    if not await repository.revoke(session, user_id, token_id):
        raise NotFound("No such token", code="not_found")


def lookup_hash(secret: str) -> str:
    """What `repository.LIVE_TOKEN` looks a presented secret up by."""
    return digest(secret[:MAX_TOKEN_LENGTH])


def secret_matches(secret: str, token_hash: str | None) -> bool:
    """Whether the secret is the one the found token was made with (None: nothing found)."""
    return (
        token_hash is not None
        and len(secret) <= MAX_TOKEN_LENGTH
        and digest_matches(secret, token_hash)
    )


async def authenticate(
    state: AppState, session: AsyncSession, secret: str
) -> tuple[ApiToken, User]:
    """The live token and its owner; one 401 for unknown, forged, revoked and expired tokens,
    all answered by the same lookup."""
    found = await repository.live_token(session, lookup_hash(secret))
    if found is None or not secret_matches(secret, found[0].token_hash):
        raise Unauthorized("Invalid or expired token", code="invalid_token")
    if state.token_usage is not None:
        state.token_usage.note(found[0].id)
    return found
