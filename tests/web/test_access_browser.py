"""Restricted documents and guests in a real browser: the Access panel, a member's open page
losing the document at once, a guest reading it (web/tests/e2e/access.mjs)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.server import ServerProcess
from tests.web.test_browser import CHROMIUM, ROOT, WEB, _browser_available  # noqa: F401

SUITE_TIMEOUT = 240.0


def test_access_panel_and_guests(tmp_path: Path) -> None:
    database = TestDatabase("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'cowrite.db'}")
    server = ServerProcess(env=server_env(database, tmp_path / "data"), workdir=tmp_path)
    server.start(timeout=120)  # a fresh database migrates first; the machine may be busy
    env = {
        **os.environ,
        "COWRITE_BASE_URL": server.base_url,
        "COWRITE_CHROMIUM": CHROMIUM,
        "COWRITE_FAILURE_SHOTS": str(tmp_path / "failures"),
        "COWRITE_SCREENSHOTS": str(ROOT / "docs" / "screenshots"),
    }
    try:
        done = subprocess.run(
            ["node", "tests/e2e/access.mjs"],
            cwd=WEB,
            env=env,
            capture_output=True,
            text=True,
            timeout=SUITE_TIMEOUT,
            check=False,
        )
    finally:
        server.stop()
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"access scenario failed:\n{output}\nserver log:\n{server.logs()}"
    assert "ok access" in output, output
