"""Share links in a real browser (web/tests/e2e/share.mjs, Debian's chromium) against a real
`cowrite serve`: a link opened without an account shows the live text and follows the owner's
typing; revoking it closes that page's connection. Screenshots land in docs/screenshots/."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.server import ServerProcess
from tests.web.test_browser import CHROMIUM, ROOT, WEB, _browser_available

__all__ = ["_browser_available"]

SUITE_TIMEOUT = 300.0
STEPS = ("share_live", "share_revoke", "share_password", "api_tokens")


def _run(server: ServerProcess, tmp_path: Path, shots: Path | None) -> str:
    env = {
        **os.environ,
        "COWRITE_BASE_URL": server.base_url,
        "COWRITE_CHROMIUM": CHROMIUM,
        "COWRITE_FAILURE_SHOTS": str(tmp_path / "failures"),
    }
    if shots is not None:
        env["COWRITE_SCREENSHOTS"] = str(shots)
    try:
        done = subprocess.run(
            ["node", "tests/e2e/share.mjs"],
            cwd=WEB,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SUITE_TIMEOUT,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"share browser suite timed out:\n{expired.stdout}\n{server.logs()}")
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"share browser suite failed:\n{output}\n{server.logs()}"
    return output


def _serve_and_run(database: TestDatabase, tmp_path: Path, shots: Path | None) -> None:
    server = ServerProcess(env=server_env(database, tmp_path / "data"), workdir=tmp_path)
    server.start()
    try:
        output = _run(server, tmp_path, shots)
    finally:
        server.stop()
    for step in STEPS:
        assert f"ok {step}" in output, output


def test_share_links_in_the_browser(tmp_path: Path) -> None:
    """On the embedded default (SQLite); the screenshots come from this run."""
    database = TestDatabase("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'cowrite.db'}")
    _serve_and_run(database, tmp_path, ROOT / "docs" / "screenshots")


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_share_links_in_the_browser_on_postgres(db: TestDatabase, tmp_path: Path) -> None:
    _serve_and_run(db, tmp_path, None)
