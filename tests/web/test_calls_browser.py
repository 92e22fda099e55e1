"""The call bar in real Chromium with fake camera and microphone, against a real `cowrite serve`:
two browsers see each other's video, a screen share and a leave; a dropped presence socket
rejoins the call by itself."""

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


def run_scenario(tmp_path: Path, script: str) -> str:
    """One of the call scenarios against a fresh `cowrite serve`; its output, once it passed."""
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
            ["node", f"tests/e2e/{script}"],
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
    return output


def test_two_browsers_call_each_other(tmp_path: Path) -> None:
    output = run_scenario(tmp_path, "calls.mjs")
    for step in ("video", "mute", "screen", "leave"):
        assert f"ok {step}" in output, output


def test_a_dropped_socket_rejoins_the_call(tmp_path: Path) -> None:
    output = run_scenario(tmp_path, "calls_reconnect.mjs")
    for step in ("call", "reconnected", "rejoined"):
        assert f"ok {step}" in output, output
