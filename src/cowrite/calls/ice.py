"""ICE servers for a caller: STUN as configured, TURN with time-limited REST credentials
(the scheme coturn's `use-auth-secret` checks: the username carries its expiry)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid

from cowrite.calls.schemas import IceServerOut, IceServersOut
from cowrite.config import Settings


def turn_credential(secret: str, username: str) -> str:
    """base64(HMAC-SHA1(secret, username))."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def ice_servers(settings: Settings, user_id: uuid.UUID, now: float | None = None) -> IceServersOut:
    ttl = settings.turn_ttl_seconds
    servers: list[IceServerOut] = []
    if settings.stun_urls:
        servers.append(IceServerOut(urls=list(settings.stun_urls)))
    if settings.turn_urls and settings.turn_secret:
        expiry = int(now if now is not None else time.time()) + ttl
        username = f"{expiry}:{user_id}"
        servers.append(
            IceServerOut(
                urls=list(settings.turn_urls),
                username=username,
                credential=turn_credential(settings.turn_secret, username),
            )
        )
    return IceServersOut(ice_servers=servers, ttl=ttl)
