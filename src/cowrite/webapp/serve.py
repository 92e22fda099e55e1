"""Serves the built app: hashed assets as immutable files, every client route as index.html.

It answers only what no other route took (it wraps the router's not-found handler), so the API,
the sockets, the docs and the probes keep their meaning, and an unknown `/api/...` stays JSON 404.
"""

from __future__ import annotations

import secrets
from mimetypes import guess_type
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from cowrite.webapp.headers import asset_headers, html_headers

PACKAGED_BUILD = Path(__file__).parent / "static"
# index.html carries this placeholder in a meta tag; each answer puts its own nonce there.
NONCE_PLACEHOLDER = "__CSP_NONCE__"
# Paths that belong to the server, never to the app's client-side routes.
SERVER_PREFIXES = (
    "/api",
    "/ws",
    "/docs",
    "/redoc",
    "/openapi.json",
    "/health",
    "/ready",
    "/metrics",
)

NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cowrite</title></head>
<body><main><h1>cowrite is running</h1>
<p>The web app is not built. Build it with <code>make setup</code> (needs Node.js 20 and npm),
or by hand: <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>; then reload this
page.</p>
<p>The API answers under <a href="/docs">/docs</a>.</p></main></body></html>
"""


def _is_server_path(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in SERVER_PREFIXES)


class WebApp:
    """The not-found handler of the app's router, serving the single-page app where it may."""

    def __init__(self, not_found: ASGIApp, build_dir: Path) -> None:
        self.not_found = not_found
        self.build_dir = build_dir.resolve()
        self._index: tuple[float, str] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in ("GET", "HEAD")
            or _is_server_path(path)
        ):
            await self.not_found(scope, receive, send)
            return
        response = self._respond(Request(scope), path)
        if response is None:
            await self.not_found(scope, receive, send)
            return
        await response(scope, receive, send)

    def _respond(self, request: Request, path: str) -> Response | None:
        if path.startswith("/assets/"):
            asset = self._asset(path)
            if asset is None:
                return None
            return self._asset_response(request, asset)
        nonce = secrets.token_urlsafe(18)
        page = self._index_html()
        body = NOT_BUILT if page is None else page.replace(NONCE_PLACEHOLDER, nonce)
        headers = html_headers(request.headers, nonce)
        if path.startswith("/s/"):
            # A share link's page: kept out of search engines, and its token out of referrers.
            headers["X-Robots-Tag"] = "noindex, nofollow"
            headers["Referrer-Policy"] = "no-referrer"
        return HTMLResponse(body, headers=headers)

    def _index_html(self) -> str | None:
        """The built index.html, read again only when a new build replaced it."""
        index = self.build_dir / "index.html"
        try:
            modified = index.stat().st_mtime
        except OSError:
            return None
        if self._index is None or self._index[0] != modified:
            self._index = (modified, index.read_text(encoding="utf-8"))
        return self._index[1]

    @staticmethod
    def _asset_response(request: Request, asset: Path) -> Response:
        """The file, or its gzipped copy from the build when the browser accepts gzip."""
        headers = asset_headers()
        headers["Vary"] = "Accept-Encoding"
        packed = asset.with_name(asset.name + ".gz")
        if "gzip" in request.headers.get("accept-encoding", "") and packed.is_file():
            headers["Content-Encoding"] = "gzip"
            media_type = guess_type(asset.name)[0] or "application/octet-stream"
            return FileResponse(packed, media_type=media_type, headers=headers)
        return FileResponse(asset, headers=headers)

    def _asset(self, path: str) -> Path | None:
        candidate = (self.build_dir / path.lstrip("/")).resolve()
        if not candidate.is_relative_to(self.build_dir / "assets") or not candidate.is_file():
            return None
        return candidate


def install(app: Starlette, build_dir: Path | None) -> None:
    """Make the app's router serve the web app for every GET it has no route for."""
    app.router.default = WebApp(app.router.default, build_dir or PACKAGED_BUILD)
