"""The sign-in in progress, kept by the browser in a signed, short-lived, HTTP-only cookie:
the state to compare with the callback's, the nonce the ID token must carry, the PKCE verifier."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import jwt

from cowrite.kit.clock import utcnow

COOKIE = "cowrite_oidc"
COOKIE_PATH = "/api/v1/auth/oidc"
LIFETIME = timedelta(minutes=10)
_TYPE = "oidc_flow"
_ALGORITHM = "HS256"


@dataclass(frozen=True, slots=True)
class Flow:
    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str


def seal(flow: Flow, secret: str) -> str:
    now = utcnow()
    payload = {
        "typ": _TYPE,
        "state": flow.state,
        "nonce": flow.nonce,
        "cv": flow.code_verifier,
        "ru": flow.redirect_uri,
        "iat": int(now.timestamp()),
        "exp": int((now + LIFETIME).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=_ALGORITHM)


def unseal(value: str, secret: str) -> Flow | None:
    """The flow, or None when the cookie is forged, expired or of another kind."""
    try:
        payload = jwt.decode(
            value, secret, algorithms=[_ALGORITHM], options={"require": ["exp", "typ"]}
        )
        if payload["typ"] != _TYPE:
            return None
        return Flow(
            state=str(payload["state"]),
            nonce=str(payload["nonce"]),
            code_verifier=str(payload["cv"]),
            redirect_uri=str(payload["ru"]),
        )
    except (jwt.PyJWTError, KeyError):
        return None
