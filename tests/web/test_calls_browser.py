"""The call bar in real Chromium with fake camera and microphone, against a real `cowrite serve`:
two browsers see each other's video, a screen share and a leave."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.server import ServerProcess
from tests.web.test_browser import CHROMIUM, WEB, _browser_available

__all__ = ["_browser_available"]

CALLS_TIMEOUT = 180.0


def test_two_browsers_call_each_other(tmp_path: Path) -> None:
    database = TestDatabase("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'cowrite.db'}")
    server = ServerProcess(env=server_env(database, tmp_path / "data"), workdir=tmp_path)
    server.start()
    try:
        env = {
            **os.environ,
            "COWRITE_BASE_URL": server.base_url,
            "COWRITE_CHROMIUM": CHROMIUM,
            "COWRITE_FAILURE_SHOTS": str(tmp_path / "failures"),
            "COWRITE_SCREENSHOTS": str(tmp_path / "shots"),
        }
        done = subprocess.run(
            ["node", "tests/e2e/calls.mjs"],
            cwd=WEB,
            env=env,
            capture_output=True,
            text=True,
            timeout=CALLS_TIMEOUT,
            check=False,
        )
    finally:
        server.stop()
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{output}\nserver log:\n{server.logs()}"
    for step in ("video", "mute", "screen", "leave"):
        assert f"ok {step}" in output, output
