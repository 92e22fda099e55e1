"""Security and cache headers of the web app's responses."""

from __future__ import annotations

import re

from starlette.datastructures import Headers

# Strictest that the app runs under: its own scripts only; its style sheets plus the style
# elements the editor writes, which carry this response's nonce; images also from blob:
# (attachments fetched with the bearer token) and data:; sockets back to the same host.
# Style attributes stay allowed (not style elements): the editor colours each remote caret with
# one, and the preview's sanitizer drops them from document content.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; "
    "style-src-attr 'unsafe-inline'; "
    "img-src 'self' blob: data:; "
    "font-src 'self'; connect-src 'self' {sockets}; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

HTML_CACHE = "no-cache"
ASSET_CACHE = "public, max-age=31536000, immutable"
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def content_security_policy(request_headers: Headers, nonce: str) -> str:
    """The policy for a page served to this request: sockets only to the host it asked for."""
    host = request_headers.get("host", "")
    sockets = f" ws://{host} wss://{host}" if _HOST.match(host) else ""
    return _CSP.replace(" {sockets}", sockets).replace("{nonce}", nonce)


def html_headers(request_headers: Headers, nonce: str) -> dict[str, str]:
    return {
        "Content-Security-Policy": content_security_policy(request_headers, nonce),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Cache-Control": HTML_CACHE,
    }


def asset_headers() -> dict[str, str]:
    return {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Cache-Control": ASSET_CACHE,
    }
