"""The web app in a real browser: the Playwright suite (web/tests/e2e) drives Debian's chromium
against a real `cowrite serve`, which this test owns (the suite asks it to kill and restart the
server between edits). Screenshots of the main screens land in docs/screenshots/."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from tests.conftest import server_env
from tests.support.databases import REQUIRE_SERVICES, TestDatabase
from tests.support.server import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
BUILD = ROOT / "src" / "cowrite" / "webapp" / "static"
CHROMIUM = os.environ.get("COWRITE_CHROMIUM", "/usr/bin/chromium")
SUITE_TIMEOUT = 300.0


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed"
    if not Path(CHROMIUM).exists():
        return f"chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        return "the web app's packages are not installed: run `make setup` (npm ci in web/)"
    if not (BUILD / "index.html").is_file():
        return "the web app is not built: run `make setup` (npm run build in web/)"
    return None


@pytest.fixture(autouse=True)
def _browser_available() -> None:
    problem = _missing()
    if problem:
        if REQUIRE_SERVICES:
            pytest.fail(problem)
        pytest.skip(problem)


def run_suite(server: ServerProcess, tmp_path: Path, steps: list[str], shots: Path | None) -> str:
    """Run the Node suite; answer its `@@kill` / `@@start` requests; return its output."""
    env = {
        **os.environ,
        "COWRITE_BASE_URL": server.base_url,
        "COWRITE_CHROMIUM": CHROMIUM,
        "COWRITE_FAILURE_SHOTS": str(tmp_path / "failures"),
    }
    if shots is not None:
        env["COWRITE_SCREENSHOTS"] = str(shots)
    process = subprocess.Popen(
        ["node", "tests/e2e/suite.mjs", *steps],
        cwd=WEB,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    watchdog = threading.Timer(SUITE_TIMEOUT, process.kill)
    watchdog.start()
    output: list[str] = []
    try:
        assert process.stdout is not None and process.stdin is not None
        for line in process.stdout:
            output.append(line)
            command = line.strip()
            if command == "@@kill":
                server.kill()
            elif command == "@@start":
                server.start()
            else:
                continue
            process.stdin.write(f"done {command[2:]}\n")
            process.stdin.flush()
        code = process.wait()
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
    text = "".join(output)
    assert code == 0, f"browser suite failed (exit {code}):\n{text}\nserver log:\n{server.logs()}"
    return text


@pytest.mark.serial  # the pages wait at most 15 s for each of the server's answers
def test_browser_suite(tmp_path: Path) -> None:
    """Every scenario, on the embedded default (SQLite)."""
    database = TestDatabase("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'cowrite.db'}")
    server = ServerProcess(env=server_env(database, tmp_path / "data"), workdir=tmp_path)
    server.start()
    try:
        output = run_suite(server, tmp_path, [], ROOT / "docs" / "screenshots")
    finally:
        server.stop()
    steps = ("coedit", "durable", "readonly", "offline", "session_end", "search_versions_image")
    for step in (*steps, "trash", "xss", "comments", "bell", "axe"):
        assert f"ok {step}" in output, output


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
def test_co_editing_on_postgres(db: TestDatabase, tmp_path: Path) -> None:
    """The main scenario once more, and comments with the bell, on PostgreSQL."""
    server = ServerProcess(env=server_env(db, tmp_path / "data"), workdir=tmp_path)
    server.start()
    steps = ["coedit", "durable", "comments", "bell"]
    try:
        output = run_suite(server, tmp_path, steps, None)
    finally:
        server.stop()
    for step in steps:
        assert f"ok {step}" in output, output
