"""Single sign-on fixtures: a real OpenID provider and a real `cowrite serve` that trusts it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import server_env
from tests.support.databases import REQUIRE_SERVICES, TestDatabase
from tests.support.oidc import (
    CALLBACK_PATH,
    CLIENT_ID,
    CLIENT_SECRET,
    OidcProvider,
    provider_installed,
)
from tests.support.server import ServerProcess, free_port

# The in-process app answers as this host (see the `client` fixture).
ASGI_CALLBACK = f"http://cowrite.test{CALLBACK_PATH}"


@pytest.fixture(autouse=True)
def _provider_installed() -> None:
    if not provider_installed():
        message = "the OpenID provider is not installed: run `npm ci` in tests/oidc (make setup)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def cowrite_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def provider(cowrite_port: int) -> Iterator[OidcProvider]:
    if not provider_installed():
        pytest.skip("the OpenID provider is not installed")
    peer = OidcProvider(
        redirect_uris=[f"http://127.0.0.1:{cowrite_port}{CALLBACK_PATH}", ASGI_CALLBACK]
    )
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


def oidc_env(provider: OidcProvider) -> dict[str, str]:
    return {
        "COWRITE_OIDC_ISSUER": provider.issuer,
        "COWRITE_OIDC_CLIENT_ID": CLIENT_ID,
        "COWRITE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "COWRITE_OIDC_PROVIDER_NAME": "Test Identity",
        "COWRITE_OIDC_ALLOWED_DOMAINS": "example.com",
    }


@pytest.fixture(scope="module")
def sso_server(
    database: TestDatabase,
    provider: OidcProvider,
    cowrite_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """One real server per backend for the module; the `db` fixture empties it between tests."""
    workdir = tmp_path_factory.mktemp("sso")
    env = server_env(database, workdir / "data", **oidc_env(provider))
    process = ServerProcess(env=env, workdir=workdir, port=cowrite_port)
    process.start()
    try:
        yield process
    finally:
        process.stop()
