"""Bearer secrets kept only as a digest: made random, stored as SHA-256, compared in constant
time. Their entropy (128 bits and more) makes a slow hash unnecessary."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret(nbytes: int) -> str:
    """`nbytes` random bytes, URL-safe text."""
    return secrets.token_urlsafe(nbytes)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def digest_matches(secret: str, stored: str) -> bool:
    return hmac.compare_digest(digest(secret), stored)
