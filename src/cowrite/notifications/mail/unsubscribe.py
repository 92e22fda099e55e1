"""Signed one-click unsubscribe links: each turns one kind of notification email off."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

ALL = "all"  # a digest of several kinds: the link turns every notification email off


def _sign(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), b"unsubscribe:" + payload.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()[:24]).decode().rstrip("=")


def unsubscribe_token(secret: str, user_id: uuid.UUID, kind: str) -> str:
    payload = f"{user_id.hex}.{kind}"
    return f"{payload}.{_sign(secret, payload)}"


def read_unsubscribe_token(secret: str, token: str) -> tuple[uuid.UUID, str] | None:
    """(user, kind) of a token signed here, else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    user_hex, kind, signature = parts
    if not hmac.compare_digest(signature, _sign(secret, f"{user_hex}.{kind}")):
        return None
    try:
        return uuid.UUID(hex=user_hex), kind
    except ValueError:
        return None
