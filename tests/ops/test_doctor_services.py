"""`cowrite doctor` on the services of mail and single sign-on: a real SMTP server (aiosmtpd, with
and without STARTTLS) and a real OpenID provider answer "ok"; one that is down, refuses TLS or is
half configured fails with one plain line and a non-zero exit."""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import TEST_SECRET
from tests.support.databases import REQUIRE_SERVICES, TestDatabase
from tests.support.nginx import Certificate, make_certificate
from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, OidcProvider, provider_installed
from tests.support.server import free_port, run_cli
from tests.support.smtp import SmtpSink


@dataclass
class Doctor:
    returncode: int
    stdout: str
    stderr: str

    def line(self, name: str) -> tuple[str, str]:
        """(status, message) of the check called `name`."""
        for line in self.stdout.splitlines()[1:-1]:
            status, check, *rest = line.split(maxsplit=2)
            if check == name:
                return status, rest[0] if rest else ""
        raise AssertionError(f"no {name} line in:\n{self.stdout}")


async def doctor(workdir: Path, db: TestDatabase, **env: str) -> Doctor:
    """`cowrite doctor` as an operator runs it, beside services living in this event loop."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("COWRITE_")}
    settings = {
        "COWRITE_DATABASE_URL": db.url,
        "COWRITE_SECRET_KEY": TEST_SECRET,
        "COWRITE_DATA_DIR": str(workdir / "data"),
        **env,
    }
    result = await asyncio.to_thread(
        run_cli, ["doctor"], cwd=workdir, env={**clean, **settings}, inherit=False
    )
    return Doctor(result.returncode, result.stdout, result.stderr)


class _Nothing:
    async def handle_DATA(self, _server: SMTP, _session: Session, _envelope: Envelope) -> str:
        return "250 OK"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
async def starttls_server(certificate: Certificate) -> AsyncIterator[int]:
    """aiosmtpd offering STARTTLS with the test certificate, and requiring it."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(certificate.cert), str(certificate.key))

    def protocol() -> SMTP:
        return SMTP(_Nothing(), hostname="mail.test", tls_context=context, require_starttls=True)

    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    server = await SmtpSink().start()
    yield server
    await server.stop()


async def test_smtp_answers_ehlo(tmp_path: Path, db: TestDatabase, sink: SmtpSink) -> None:
    result = await doctor(tmp_path, db, COWRITE_SMTP_URL=sink.url)
    assert result.returncode == 0, result.stdout
    status, message = result.line("smtp")
    assert status == "ok"
    assert f"127.0.0.1:{sink.port}" in message and "answers EHLO" in message
    assert result.stdout.splitlines()[-1] == "All good."


async def test_smtp_with_starttls_trusted(
    tmp_path: Path, db: TestDatabase, starttls_server: int, certificate: Certificate
) -> None:
    url = f"smtp://127.0.0.1:{starttls_server}"
    trusted = await doctor(tmp_path, db, COWRITE_SMTP_URL=url, SSL_CERT_FILE=str(certificate.cert))
    assert trusted.returncode == 0, trusted.stdout
    status, message = trusted.line("smtp")
    assert status == "ok" and "over TLS" in message and "mail.test" in message


async def test_smtp_with_an_untrusted_certificate_fails(
    tmp_path: Path, db: TestDatabase, starttls_server: int
) -> None:
    result = await doctor(tmp_path, db, COWRITE_SMTP_URL=f"smtp://127.0.0.1:{starttls_server}")
    assert result.returncode == 1
    status, message = result.line("smtp")
    assert status == "FAIL" and "does not answer" in message
    assert "certificate" in message.lower()
    assert "Traceback" not in result.stdout + result.stderr


async def test_smtp_that_is_down_fails_with_one_plain_line(
    tmp_path: Path, db: TestDatabase
) -> None:
    port = free_port()
    result = await doctor(tmp_path, db, COWRITE_SMTP_URL=f"smtp://u:hunter2@127.0.0.1:{port}")
    assert result.returncode == 1
    status, message = result.line("smtp")
    assert status == "FAIL"
    assert f"the mail server at 127.0.0.1:{port} does not answer" in message
    assert "hunter2" not in result.stdout  # passwords never printed
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == "1 problem to fix."


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    if not provider_installed():
        message = "the OpenID provider is not installed: run `npm ci` in tests/oidc (make setup)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    peer = OidcProvider(redirect_uris=["http://127.0.0.1:7001/api/v1/auth/oidc/callback"])
    peer.start()
    try:
        yield peer
    finally:
        peer.stop()


def oidc(issuer: str, **extra: Any) -> dict[str, str]:
    return {
        "COWRITE_OIDC_ISSUER": issuer,
        "COWRITE_OIDC_CLIENT_ID": CLIENT_ID,
        "COWRITE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        **extra,
    }


async def test_oidc_discovery_answers(
    tmp_path: Path, db: TestDatabase, provider: OidcProvider
) -> None:
    result = await doctor(tmp_path, db, **oidc(provider.issuer))
    assert result.returncode == 0, result.stdout
    status, message = result.line("oidc")
    assert status == "ok"
    assert provider.issuer in message and "answers discovery and its keys" in message
    assert "RS256" in message


async def test_oidc_provider_down_fails_with_one_plain_line(
    tmp_path: Path, db: TestDatabase
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    result = await doctor(tmp_path, db, **oidc(nowhere))
    assert result.returncode == 1
    status, message = result.line("oidc")
    assert status == "FAIL"
    assert message.startswith(f"the sign-in provider {nowhere} cannot be used: ")
    assert "Traceback" not in result.stdout + result.stderr
    assert CLIENT_SECRET not in result.stdout


async def test_oidc_with_another_issuer_fails(
    tmp_path: Path, db: TestDatabase, provider: OidcProvider
) -> None:
    # The metadata names 127.0.0.1 as the issuer; reached as "localhost", it is another one.
    elsewhere = provider.issuer.replace("127.0.0.1", "localhost")
    result = await doctor(tmp_path, db, **oidc(elsewhere))
    assert result.returncode == 1
    status, message = result.line("oidc")
    assert status == "FAIL" and "another issuer" in message


async def test_oidc_half_configured_fails(tmp_path: Path, db: TestDatabase) -> None:
    result = await doctor(tmp_path, db, COWRITE_OIDC_ISSUER="https://id.example.com")
    assert result.returncode == 1
    status, message = result.line("oidc")
    assert status == "FAIL" and "COWRITE_OIDC_CLIENT_ID is not set" in message
