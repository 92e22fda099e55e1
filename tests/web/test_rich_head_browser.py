"""The head of a rich document's page in a real browser (`web/tests/e2e/rich_head.mjs`): the
Share dialog makes a link a reader opens, the Access panel restricts the document and lists a
viewer whose page turns read-only, the call bar starts a call the viewer sees."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.server import ServerProcess
from tests.web.test_browser import CHROMIUM, ROOT, WEB, _browser_available  # noqa: F401

SCENARIO_TIMEOUT = 240.0


def test_rich_page_shares_restricts_and_calls(tmp_path: Path) -> None:
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
            ["node", "tests/e2e/rich_head.mjs"],
            cwd=WEB,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=SCENARIO_TIMEOUT,
            check=False,
        )
    finally:
        server.stop()
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"rich head scenario failed:\n{output}\nserver:\n{server.logs()}"
    assert "ok rich head" in output, output
