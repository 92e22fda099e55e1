"""Cookie mode of the auth routes: the refresh token in an HttpOnly cookie, never in the JSON.

Browsers ask for it with `?cookie=true`; API clients keep the JSON mode. The cookie is scoped to
`/api/v1/auth`, `SameSite=Strict` (no cross-site request carries it) and `Secure` over https.
Behind a proxy, https is the proxy's `X-Forwarded-Proto`, believed only from the trusted proxies
of `COWRITE_TRUSTED_PROXIES` (the server sets the request's scheme from it; anyone else's is
ignored).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Request, Response

REFRESH_COOKIE = "cowrite_refresh"
COOKIE_PATH = "/api/v1/auth"

CookieMode = Annotated[
    bool,
    Query(
        alias="cookie",
        description="Keep the refresh token in an HttpOnly cookie instead of the JSON body",
    ),
]


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def set_refresh_cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
    )


def clear_refresh_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        REFRESH_COOKIE,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
    )


def refresh_cookie(request: Request) -> str | None:
    return request.cookies.get(REFRESH_COOKIE) or None
