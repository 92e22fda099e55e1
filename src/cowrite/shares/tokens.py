"""Share link tokens (128 random bits, kept hashed) and the short-lived token that unlocking a
password-protected link gives: a JWT of its own type that names the link, which no account
route accepts (they require an access token)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import jwt

from cowrite.auth.tokens import ALGORITHM
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import Unauthorized
from cowrite.kit.secrets import new_secret

SHARE_ACCESS = "share"
TOKEN_BYTES = 16  # 128 bits
MAX_TOKEN_LENGTH = 64  # longer presented tokens are refused before any lookup


def new_share_token() -> str:
    return new_secret(TOKEN_BYTES)


class ShareAccessTokens:
    def __init__(self, secret: str, ttl: int) -> None:
        self._secret = secret
        self.ttl = ttl

    def issue(self, share_id: uuid.UUID) -> str:
        now = utcnow()
        payload = {
            "sub": str(share_id),
            "typ": SHARE_ACCESS,
            "jti": new_secret(12),
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.ttl)).timestamp()),
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def share_of(self, token: str) -> uuid.UUID:
        """The link an unlock token was given for; 401 for anything else."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "iat", "sub", "typ"]},
            )
            if payload.get("typ") != SHARE_ACCESS:
                raise ValueError("not a share token")
            return uuid.UUID(str(payload["sub"]))
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise Unauthorized("Unlock the link first", code="password_required") from exc
