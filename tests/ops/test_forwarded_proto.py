"""The scheme behind a TLS proxy: through nginx (a trusted proxy) the refresh cookie and the
sign-in flow's cookie are `Secure` and the links cowrite makes (the single sign-on return address)
are https; straight from an untrusted address, a forged `X-Forwarded-Proto: https` changes
nothing."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import server_env
from tests.ops.conftest import Proxied
from tests.support.databases import REQUIRE_SERVICES, TestDatabase
from tests.support.factories import PASSWORD, make_user
from tests.support.nginx import PROXY_ADDRESS, Certificate, Nginx
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, OidcProvider, provider_installed
from tests.support.server import ServerProcess

pytestmark = pytest.mark.interop

FORGED = {"X-Forwarded-Proto": "https"}
CALLBACK = "/api/v1/auth/oidc/callback"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    if not provider_installed():
        message = "the OpenID provider is not installed: run `npm ci` in tests/oidc (make setup)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    peer = OidcProvider(redirect_uris=[f"https://127.0.0.1{CALLBACK}"])
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


@pytest.fixture(scope="module")
async def behind_tls(
    database: TestDatabase,
    certificate: Certificate,
    provider: OidcProvider,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Proxied]:
    """One `cowrite serve` with single sign-on, behind nginx with TLS (only nginx trusted)."""
    workdir = tmp_path_factory.mktemp("forwarded")
    env = server_env(
        database,
        workdir / "data",
        COWRITE_TRUSTED_PROXIES=f"{PROXY_ADDRESS}/32",
        COWRITE_OIDC_ISSUER=provider.issuer,
        COWRITE_OIDC_CLIENT_ID=CLIENT_ID,
        COWRITE_OIDC_CLIENT_SECRET=CLIENT_SECRET,
    )
    server = ServerProcess(env=env, workdir=workdir)
    nginx = Nginx(workdir / "nginx", certificate, [server.port])
    try:
        server.start()
        nginx.start()
        yield Proxied(nginx, [server])
    finally:
        nginx.stop()
        server.stop()
        await database.clean()


def cookie_header(response: httpx.Response, name: str) -> str:
    [header] = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    return header


def is_secure(set_cookie: str) -> bool:
    return "secure" in [part.strip().lower() for part in set_cookie.split(";")]


async def test_the_refresh_cookie_is_secure_through_the_tls_proxy_only(
    behind_tls: Proxied, tls: ssl.SSLContext
) -> None:
    async with httpx.AsyncClient(base_url=behind_tls.nginx.base_url, verify=tls) as via:
        user = await make_user(via)
        login = {"email": user.email, "password": PASSWORD}
        proxied = await via.post("/api/v1/auth/login?cookie=true", json=login)
        assert proxied.status_code == 200, proxied.text
        assert is_secure(cookie_header(proxied, "cowrite_refresh"))
    # Straight at the server from 127.0.0.1, which is no trusted proxy: the forged header is
    # ignored, and the cookie is not marked for https.
    async with httpx.AsyncClient(base_url=behind_tls.servers[0].base_url) as direct:
        forged = await direct.post("/api/v1/auth/login?cookie=true", json=login, headers=FORGED)
        assert forged.status_code == 200, forged.text
        assert not is_secure(cookie_header(forged, "cowrite_refresh"))


def return_address(response: httpx.Response) -> str:
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    [redirect_uri] = query["redirect_uri"]
    return redirect_uri


async def test_sign_in_links_use_https_through_the_tls_proxy_only(
    behind_tls: Proxied, tls: ssl.SSLContext
) -> None:
    nginx = behind_tls.nginx
    async with httpx.AsyncClient(base_url=nginx.base_url, verify=tls) as via:
        proxied = await via.get("/api/v1/auth/oidc/login")
    assert return_address(proxied) == f"https://127.0.0.1:{nginx.port}{CALLBACK}"
    assert is_secure(cookie_header(proxied, "cowrite_oidc"))
    server = behind_tls.servers[0]
    async with httpx.AsyncClient(base_url=server.base_url) as direct:
        forged = await direct.get("/api/v1/auth/oidc/login", headers=FORGED)
    assert return_address(forged) == f"http://127.0.0.1:{server.port}{CALLBACK}"
    assert not is_secure(cookie_header(forged, "cowrite_oidc"))
