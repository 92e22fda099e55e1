"""Single sign-on and the webhooks settings page in a real browser (web/tests/e2e/integrations.mjs):
Debian's chromium signs in through a real OpenID provider (the one of tests/oidc) to a real
`cowrite serve`; another server, whose provider is down, shows the error page; an admin manages
webhooks against a receiver the suite runs, and hears through the bell when one is turned off."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

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
from tests.support.server import ServerProcess, free_port, start_together
from tests.web.test_browser import CHROMIUM, ROOT, SUITE_TIMEOUT, WEB

STEPS = ("sso", "sso_bad_code", "sso_down", "webhooks", "webhook_turned_off")


@pytest.fixture(autouse=True)
def _provider_available() -> None:
    if not provider_installed():
        message = "the OpenID provider is not installed: run `npm ci` in tests/oidc (make setup)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


def sso_env(database: TestDatabase, data_dir: Path, issuer: str) -> dict[str, str]:
    return server_env(
        database,
        data_dir,
        COWRITE_OIDC_ISSUER=issuer,
        COWRITE_OIDC_CLIENT_ID=CLIENT_ID,
        COWRITE_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        COWRITE_OIDC_PROVIDER_NAME="Test Identity",
        COWRITE_OIDC_ALLOWED_DOMAINS="example.com",
        COWRITE_OIDC_TIMEOUT_SECONDS="2",
        # The suite's receiver listens on 127.0.0.1; quick first retries.
        COWRITE_WEBHOOKS_ALLOW_PRIVATE="true",
        COWRITE_WEBHOOKS_POLL_SECONDS="0.2",
    )


@pytest.fixture
def servers(db: TestDatabase, tmp_path: Path) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """(a server whose provider is up, one whose provider does not answer)."""
    port = free_port()
    provider = OidcProvider(redirect_uris=[f"http://127.0.0.1:{port}{CALLBACK_PATH}"]).start()
    up = ServerProcess(
        env=sso_env(db, tmp_path / "data", provider.issuer), workdir=tmp_path, port=port
    )
    down_db = TestDatabase("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'down.db'}")
    nowhere = f"http://127.0.0.1:{free_port()}"
    down = ServerProcess(env=sso_env(down_db, tmp_path / "down", nowhere), workdir=tmp_path)
    try:
        start_together([up, down])
        yield up, down
    finally:
        down.stop()
        up.stop()
        provider.stop()


def run_integrations(up: ServerProcess, down: ServerProcess, tmp_path: Path, shots: bool) -> str:
    env = {
        **os.environ,
        "COWRITE_BASE_URL": up.base_url,
        "COWRITE_DOWN_URL": down.base_url,
        "COWRITE_CHROMIUM": CHROMIUM,
        "COWRITE_FAILURE_SHOTS": str(tmp_path / "failures"),
    }
    if shots:
        env["COWRITE_SCREENSHOTS"] = str(ROOT / "docs" / "screenshots")
    result = subprocess.run(
        ["node", "tests/e2e/integrations.mjs"],
        cwd=WEB,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SUITE_TIMEOUT,
    )
    output = result.stdout + result.stderr
    logs = f"server log:\n{up.logs()}\nprovider-down server log:\n{down.logs()}"
    assert result.returncode == 0, f"browser suite failed:\n{output}\n{logs}"
    return output


def test_sso_and_webhooks_in_the_browser(
    servers: tuple[ServerProcess, ServerProcess], tmp_path: Path, database: TestDatabase
) -> None:
    up, down = servers
    output = run_integrations(up, down, tmp_path, shots=database.backend == "sqlite")
    for step in STEPS:
        assert f"ok {step}" in output, output
