"""Fixtures for running cowrite as operators do: behind nginx with TLS, several processes."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import server_env
from tests.support.collab import INTEROP_DIR
from tests.support.databases import REQUIRE_SERVICES, TestDatabase
from tests.support.nginx import PROXY_ADDRESS, Certificate, Nginx, make_certificate, nginx_binary
from tests.support.server import ServerProcess


def _missing(message: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    if nginx_binary() is None:
        _missing("nginx is not installed (apt-get install nginx)")
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls(certificate: Certificate) -> ssl.SSLContext:
    """A client context that trusts the test certificate (and nothing else)."""
    return ssl.create_default_context(cafile=str(certificate.cert))


@pytest.fixture
def node_trusts_certificate(certificate: Certificate, monkeypatch: pytest.MonkeyPatch) -> None:
    if not (INTEROP_DIR / "node_modules" / "y-websocket").is_dir():
        _missing("the Yjs client is not installed: run `npm ci` in tests/interop (make setup)")
    monkeypatch.setenv("NODE_EXTRA_CA_CERTS", str(certificate.cert))


def proxied_env(db: TestDatabase, data_dir: Path, **extra: str) -> dict[str, str]:
    """Server settings for the proxy tests: only nginx's address is a trusted proxy."""
    return server_env(db, data_dir, COWRITE_TRUSTED_PROXIES=f"{PROXY_ADDRESS}/32", **extra)


@dataclass
class Proxied:
    nginx: Nginx
    servers: list[ServerProcess]


@pytest.fixture(scope="module")
async def proxied(
    database: TestDatabase, certificate: Certificate, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Proxied]:
    """One `cowrite serve` behind nginx (TLS on 127.0.0.1, upstream from 127.0.0.2), shared by
    a module's tests (each makes its own users); the database is emptied afterwards."""
    workdir = tmp_path_factory.mktemp("proxied")
    server = ServerProcess(env=proxied_env(database, workdir / "data"), workdir=workdir)
    nginx = Nginx(workdir / "nginx", certificate, [server.port])
    try:
        server.start()
        nginx.start()
        yield Proxied(nginx, [server])
    finally:
        nginx.stop()
        server.stop()
        await database.clean()
