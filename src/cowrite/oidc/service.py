"""Who a provider's sign-in is in cowrite, and the one-time code that hands it to the web app.

A known subject is its user. Otherwise an account with the same email is linked only when the
provider says it verified that email; with no such account, one is created. Allowed domains,
when set, limit every single sign-on.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.auth import service as auth
from cowrite.auth.schemas import TokenPair
from cowrite.config import Settings
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import Unauthorized
from cowrite.models import OidcHandoff, OidcIdentity, User
from cowrite.oidc import repository
from cowrite.oidc.client import Identity
from cowrite.state import AppState

# Stored as the password hash of accounts made by single sign-on: no password ever matches it.
NO_PASSWORD = "!sso"


class SignInRefused(Exception):
    """The provider proved who this is, but cowrite will not sign them in (shown to them)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def _check_domain(settings: Settings, email: str) -> None:
    allowed = settings.oidc_allowed_domains
    if allowed and email.rsplit("@", 1)[-1] not in allowed:
        raise SignInRefused(
            "Accounts of this email domain may not sign in here.", code="domain_not_allowed"
        )


async def user_for(settings: Settings, session: AsyncSession, identity: Identity) -> User:
    if not identity.email:
        raise SignInRefused("The provider did not share an email address.", code="no_email")
    _check_domain(settings, identity.email)
    known = await repository.identity(session, identity.issuer, identity.subject)
    if known is not None:
        user = await session.get(User, known.user_id)
        if user is not None:
            known.last_login_at = utcnow()
            known.email = identity.email
            return user
    user = await repository.user_by_email(session, identity.email)
    if user is not None and not identity.email_verified:
        raise SignInRefused(
            "An account with this email already exists, and the provider has not verified "
            "that the email is yours. Sign in with your password, or verify the email at "
            "the provider.",
            code="unverified_email",
        )
    if user is None:
        name = (identity.name or identity.email.split("@", 1)[0]).strip()[:200] or "User"
        user = User(email=identity.email, full_name=name, password_hash=NO_PASSWORD)
        session.add(user)
    try:
        await session.flush()
        session.add(
            OidcIdentity(
                issuer=identity.issuer,
                subject=identity.subject,
                user_id=user.id,
                email=identity.email,
            )
        )
        await session.flush()
    except IntegrityError as exc:  # the same first sign-in, twice at once
        raise SignInRefused("Signing in twice at once; try again.", code="conflict") from exc
    return user


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


async def handoff(settings: Settings, session: AsyncSession, user: User) -> str:
    """A one-time code for this sign-in, valid for a short while."""
    now = utcnow()
    await repository.drop_expired_handoffs(session, now - timedelta(hours=1))
    code = secrets.token_urlsafe(32)
    session.add(
        OidcHandoff(
            code_hash=_hash(code),
            user_id=user.id,
            expires_at=now + timedelta(seconds=settings.oidc_handoff_seconds),
        )
    )
    await session.flush()
    return code


async def exchange(
    state: AppState, session: AsyncSession, code: str, client: auth.ClientInfo
) -> TokenPair:
    """The token pair for a hand-off code; a code works once, and only for a short while."""
    user_id = await repository.use_handoff(session, _hash(code), utcnow())
    user = await session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise Unauthorized("The sign-in code is invalid, used or expired", code="invalid_code")
    return await auth.start_login(state, session, user, client)
