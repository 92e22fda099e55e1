"""Rich-text documents in a real browser: `web/tests/e2e/rich.mjs` drives Debian's chromium
against a real `cowrite serve` (two people co-edit a rich document in the Tiptap editor; the
REST content shows their formatting as Markdown)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.server import ServerProcess
from tests.web.test_browser import CHROMIUM, ROOT, WEB, _browser_available

__all__ = ["_browser_available"]  # the fixture that fails or skips without a browser

SCENARIO_TIMEOUT = 180.0


def run_rich(
    server: ServerProcess, tmp_path: Path, shots: Path | None, script: str = "tests/e2e/rich.mjs"
) -> str:
    """Run a rich-text browser scenario against `server`; its output, once it passed."""
    env = {
        **os.environ,
        "COWRITE_BASE_URL": server.base_url,
        "COWRITE_CHROMIUM": CHROMIUM,
        "COWRITE_FAILURE_SHOTS": str(tmp_path / "failures"),
    }
    if shots is not None:
        env["COWRITE_SCREENSHOTS"] = str(shots)
    done = subprocess.run(
        ["node", script],
        cwd=WEB,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SCENARIO_TIMEOUT,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{script} failed:\n{output}\n{server.logs()}"
    return output


@pytest.mark.parametrize("database", ["sqlite", "postgres"], indirect=True)
def test_two_browsers_co_edit_a_rich_document(db: TestDatabase, tmp_path: Path) -> None:
    server = ServerProcess(env=server_env(db, tmp_path / "data"), workdir=tmp_path)
    server.start()
    try:
        shots = ROOT / "docs" / "screenshots" if db.backend == "sqlite" else None
        output = run_rich(server, tmp_path, shots)
    finally:
        server.stop()
    assert "ok rich" in output, output
