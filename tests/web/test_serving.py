"""The web app at `/`: client routes fall back to its HTML under a strict policy, hashed assets
are cached for good, and the server's own paths keep answering as before."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from cowrite.app import create_app
from tests.conftest import make_settings
from tests.support.databases import TestDatabase

INDEX = (
    '<!doctype html><html><head><meta name="csp-nonce" content="__CSP_NONCE__">'
    '<script type="module" src="/assets/app-1a2b3c.js"></script>'
)
ASSET = "console.log('cowrite')"


async def _client(
    db: TestDatabase, tmp_path: Path, web_dir: Path
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(db.url, tmp_path / "data", web_dir=web_dir))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://docs.example:7001") as c:
            yield c


@pytest.fixture
async def built(db: TestDatabase, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A server whose web app was built (a small stand-in build: an index and one asset)."""
    build = tmp_path / "build"
    (build / "assets").mkdir(parents=True)
    (build / "index.html").write_text(INDEX)
    (build / "assets" / "app-1a2b3c.js").write_text(ASSET)
    (build / "assets" / "app-1a2b3c.js.gz").write_bytes(gzip.compress(ASSET.encode()))
    async for client in _client(db, tmp_path, build):
        yield client


@pytest.fixture
async def unbuilt(db: TestDatabase, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(db, tmp_path, tmp_path / "no-build"):
        yield client


@pytest.mark.parametrize("path", ["/", "/d/5b1c0a52-8a4e-4a53-a1a4-0c9bd1d3f3a1", "/account"])
async def test_client_routes_get_the_app_with_a_strict_policy(
    built: httpx.AsyncClient, path: str
) -> None:
    response = await built.get(path)
    assert response.status_code == 200
    nonce = response.text.split('name="csp-nonce" content="')[1].split('"')[0]
    assert len(nonce) >= 16
    assert response.text == INDEX.replace("__CSP_NONCE__", nonce)
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    directives = [part.strip() for part in response.headers["content-security-policy"].split(";")]
    policy = {name: value for name, _, value in (d.partition(" ") for d in directives)}
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    # The editor's own style elements carry this response's nonce; nothing else inline.
    assert policy["style-src"] == f"'self' 'nonce-{nonce}'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["connect-src"] == "'self' ws://docs.example:7001 wss://docs.example:7001"


async def test_every_page_gets_its_own_nonce(built: httpx.AsyncClient) -> None:
    first, second = await built.get("/"), await built.get("/")
    policies = {r.headers["content-security-policy"] for r in (first, second)}
    assert len(policies) == 2
    assert first.text != second.text


async def test_assets_are_immutable_and_unknown_ones_are_404(built: httpx.AsyncClient) -> None:
    asset = await built.get("/assets/app-1a2b3c.js")
    assert asset.status_code == 200
    assert asset.text == ASSET
    assert "immutable" in asset.headers["cache-control"]
    assert asset.headers["x-content-type-options"] == "nosniff"
    packed = await built.get("/assets/app-1a2b3c.js", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["content-type"].startswith("text/javascript")
    assert packed.text == ASSET  # httpx inflates it
    plain = await built.get("/assets/app-1a2b3c.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.text == ASSET
    missing = await built.get("/assets/app-000000.js")
    assert missing.status_code == 404
    escape = await built.get("/assets/..%2Findex.html")
    assert escape.status_code == 404


async def test_server_paths_keep_their_meaning(built: httpx.AsyncClient) -> None:
    unknown = await built.get("/api/v1/nothing-here")
    assert unknown.status_code == 404
    assert unknown.json() == {"detail": "Not Found", "code": "not_found"}
    posted = await built.post("/api/v1/nothing-here")
    assert posted.json()["code"] == "not_found"
    assert (await built.get("/ws")).status_code == 404  # a socket path, not a page
    assert (await built.get("/health")).json() == {"status": "ok"}
    assert (await built.get("/openapi.json")).json()["info"]["title"] == "cowrite"
    assert (await built.get("/metrics")).headers["content-type"].startswith("text/plain")
    not_allowed = await built.put("/api/v1/auth/login")
    assert not_allowed.status_code == 405
    assert (await built.post("/")).status_code == 404


async def test_without_a_build_the_page_says_how_to_build(unbuilt: httpx.AsyncClient) -> None:
    response = await unbuilt.get("/")
    assert response.status_code == 200
    assert "make setup" in response.text
    assert "npm run build" in response.text
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert (await unbuilt.get("/api/v1/nothing-here")).status_code == 404
