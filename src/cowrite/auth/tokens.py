"""JWTs: one pinned algorithm; access and refresh tokens carry `typ` and the login (`sid`)."""

from __future__ import annotations

import secrets
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from cowrite.kit.clock import utcnow
from cowrite.kit.errors import Unauthorized

ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"
REQUIRED = ["exp", "iat", "sub", "sid", "typ", "jti"]
# Access tokens already verified, by their exact text (signature included), until they expire:
# a client sends the same one with every request, and checking its signature again costs more
# than the rest of the token's handling.
VERIFIED_MEMORY = 4096


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: uuid.UUID
    login_id: uuid.UUID
    jti: str
    expires_at: datetime


class TokenService:
    def __init__(self, secret: str, access_ttl: int, refresh_ttl: int) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._verified: OrderedDict[str, TokenClaims] = OrderedDict()

    @staticmethod
    def new_jti() -> str:
        return secrets.token_urlsafe(24)

    def _encode(self, typ: str, user_id: uuid.UUID, login_id: uuid.UUID, jti: str, ttl: int) -> str:
        now = utcnow()
        payload: dict[str, Any] = {
            "sub": str(user_id),
            "sid": str(login_id),
            "typ": typ,
            "jti": jti,
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ttl)).timestamp()),
        }
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def access_token(self, user_id: uuid.UUID, login_id: uuid.UUID) -> str:
        return self._encode(ACCESS, user_id, login_id, self.new_jti(), self.access_ttl)

    def refresh_token(self, user_id: uuid.UUID, login_id: uuid.UUID, jti: str) -> str:
        return self._encode(REFRESH, user_id, login_id, jti, self.refresh_ttl)

    def decode(self, token: str, expected_type: str) -> TokenClaims:
        """Verify signature, expiry and type; any failure is the same 401."""
        if expected_type == ACCESS:
            known = self._verified.get(token)
            if known is not None and utcnow() < known.expires_at:
                return known
        claims = self._verify(token, expected_type)
        if expected_type == ACCESS:
            self._verified[token] = claims
            if len(self._verified) > VERIFIED_MEMORY:
                self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str, expected_type: str) -> TokenClaims:
        try:
            payload = jwt.decode(
                token, self._secret, algorithms=[ALGORITHM], options={"require": REQUIRED}
            )
            if payload.get("typ") != expected_type:
                raise Unauthorized("Wrong token type", code="invalid_token")
            return TokenClaims(
                user_id=uuid.UUID(str(payload["sub"])),
                login_id=uuid.UUID(str(payload["sid"])),
                jti=str(payload["jti"]),
                expires_at=datetime.fromtimestamp(int(payload["exp"]), tz=utcnow().tzinfo),
            )
        except Unauthorized:
            raise
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise Unauthorized("Invalid or expired token", code="invalid_token") from exc
