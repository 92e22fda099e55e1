"""Who is calling, for the requests answered in front of the framework (the lean paths).

Only what this process can prove without a query: an access token it has verified, whose login
it knows to be live. Anything else (another kind of token, a login to be read again, a malformed
header) is left to the full route, which answers it as always, errors included.
"""

from __future__ import annotations

import uuid

from starlette.types import Scope

from cowrite.auth.tokens import ACCESS
from cowrite.kit.errors import AppError
from cowrite.state import AppState


def bearer_token(scope: Scope) -> str | None:
    """The bearer token of the first Authorization header, when it has the plain form."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token or token != token.strip() or " " in token:
                return None
            return token
    return None


def live_access_user(state: AppState, token: str) -> uuid.UUID | None:
    """The user of an access token whose login is known live here, else None (the full route
    decides: it reads the login, or refuses the token in its own words)."""
    try:
        claims = state.tokens.decode(token, ACCESS)
    except AppError:
        return None
    logins = state.logins
    if not logins.is_live(claims.login_id, claims.user_id):
        return None
    if logins.claim_refresh(claims.login_id):
        return None  # the full route reads the login again, for everyone
    return claims.user_id
