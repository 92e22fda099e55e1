"""The head of a rich document's page in a real browser (`web/tests/e2e/rich_head.mjs`): the
Share dialog makes a link a reader opens, the Access panel restricts the document and lists a
viewer whose page turns read-only, the call bar starts a call the viewer sees."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.server import ServerProcess
from tests.web.test_browser import ROOT, _browser_available  # noqa: F401
from tests.web.test_rich_browser import run_rich


def test_rich_page_shares_restricts_and_calls(tmp_path: Path) -> None:
    database = TestDatabase("sqlite", f"sqlite+aiosqlite:///{tmp_path / 'cowrite.db'}")
    server = ServerProcess(env=server_env(database, tmp_path / "data"), workdir=tmp_path)
    server.start(timeout=120)  # a fresh database migrates first; the machine may be busy
    try:
        output = run_rich(
            server, tmp_path, ROOT / "docs" / "screenshots", script="tests/e2e/rich_head.mjs"
        )
    finally:
        server.stop()
    assert "ok rich head" in output, output
