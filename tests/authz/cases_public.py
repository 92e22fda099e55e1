"""Routes anyone may call: health, metrics and the API's own documentation."""

from __future__ import annotations

from tests.authz.cases import Case

CASES = [
    Case("GET", path, kind="public")
    for path in (
        "/health",
        "/ready",
        "/metrics",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
    )
]
