"""A plugin that appends every failed or errored test to the file named by COWRITE_TEST_FAILURES,
one line each: `make test` prints the lines of both phases once both ran, so that a failure of the
first phase still shows at the end of a long log."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FAILURES_FILE = "COWRITE_TEST_FAILURES"


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = crash.message if crash is not None else str(report.longrepr or "")
    first = message.strip().splitlines()[0] if message.strip() else ""
    return first[:200]


class FailureLog:
    """Writes on the process that reports (the xdist controller, not its workers)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _write(self, kind: str, nodeid: str, reason: str) -> None:
        line = f"{kind} {nodeid}" + (f" - {reason}" if reason else "")
        with self.path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            kind = "FAILED" if report.when == "call" else f"ERROR at {report.when} of"
            self._write(kind, report.nodeid, _reason(report))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self._write("ERROR collecting", report.nodeid or ".", _reason(report))


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get(FAILURES_FILE)
    if path and not hasattr(config, "workerinput"):
        config.pluginmanager.register(FailureLog(Path(path)), "cowrite-failure-log")
