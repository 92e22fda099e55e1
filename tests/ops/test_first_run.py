"""What an operator sees on a first run: the banner, `--version`, `cowrite doctor`, and one plain
line (never a traceback) for a bad setting, a service that does not answer or a data dir that
cannot be written."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import pytest

from cowrite import __version__
from cowrite.config import Settings
from cowrite.observability import TextFormatter
from cowrite.ops.startup import prepare
from tests.conftest import TEST_SECRET
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx
from tests.support.redis import RedisServer, redis_server
from tests.support.server import ServerProcess, free_port, run_cli

__all__ = ["redis_server"]


def cowrite(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the CLI as an operator would, in `workdir`, with only these COWRITE_ settings."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("COWRITE_")}
    return run_cli(list(args), cwd=workdir, env={**clean, **env}, inherit=False)


def assert_one_plain_line(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_version(tmp_path: Path) -> None:
    result = cowrite(tmp_path, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"cowrite {__version__}"


def test_a_malformed_trusted_proxy_list_stops_serve_with_one_line(tmp_path: Path) -> None:
    result = cowrite(tmp_path, "serve", COWRITE_TRUSTED_PROXIES="10.0.0.0/8,proxy.example")
    assert_one_plain_line(result, "COWRITE_TRUSTED_PROXIES", "'proxy.example'")


def test_an_unreachable_redis_stops_serve_with_one_line(tmp_path: Path) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    result = cowrite(tmp_path, "serve", "--port", str(free_port()), COWRITE_REDIS_URL=nowhere)
    assert_one_plain_line(result, "redis", nowhere, "does not answer")


def test_a_data_dir_that_cannot_be_written_stops_serve_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    result = cowrite(tmp_path, "serve", COWRITE_DATA_DIR="a-file/data")
    assert_one_plain_line(result, "data dir", "is not writable")


def test_doctor_names_each_problem_and_fails(tmp_path: Path) -> None:
    database = f"postgresql+asyncpg://cowrite:hunter2@127.0.0.1:{free_port()}/cowrite"
    result = cowrite(
        tmp_path,
        "doctor",
        COWRITE_DATABASE_URL=database,
        COWRITE_SECRET_KEY=TEST_SECRET,
        COWRITE_TRUSTED_PROXIES="0.0.0.0/0",
    )
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    database_line = next(line for line in lines if "database" in line)
    assert database_line.split()[0] == "FAIL" and "does not answer" in database_line
    assert "hunter2" not in result.stdout  # passwords never printed
    proxy_line = next(line for line in lines if "proxy trust" in line)
    assert proxy_line.split()[0] == "WARN"
    assert lines[-1] == "1 problem to fix."


def test_doctor_passes_on_a_working_setup(
    db: TestDatabase, redis_server: RedisServer, tmp_path: Path
) -> None:
    result = cowrite(
        tmp_path,
        "doctor",
        COWRITE_DATABASE_URL=db.url,
        COWRITE_REDIS_URL=redis_server.url,
        COWRITE_SECRET_KEY=TEST_SECRET,
        COWRITE_DATA_DIR=str(tmp_path / "data"),
    )
    assert result.returncode == 0, result.stdout
    statuses = {line.split()[1]: line.split()[0] for line in result.stdout.splitlines()[1:-1]}
    assert set(statuses.values()) == {"ok"}, result.stdout
    assert {"database", "redis", "storage"} <= set(statuses)
    assert result.stdout.splitlines()[-1] == "All good."


def banner_records(server: ServerProcess) -> tuple[list[dict[str, object]], list[str]]:
    records = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    banners = [r for r in records if str(r["msg"]).startswith("cowrite ")]
    migrations = [str(r["msg"]) for r in records if "migrated" in str(r["msg"])]
    return banners, migrations


async def test_first_run_banner_with_the_first_account_hint(tmp_path: Path) -> None:
    env = {
        "COWRITE_DATA_DIR": str(tmp_path / "data"),
        "COWRITE_LOG_FORMAT": "json",
        "COWRITE_LOG_LEVEL": "info",
    }
    server = ServerProcess(env=env, workdir=tmp_path).start(timeout=90)
    server.stop()
    banners, migrations = banner_records(server)
    assert len(banners) == 1 and len(migrations) == 1, server.logs()
    banner = banners[0]
    assert banner["version"] == __version__
    assert banner["url"] == server.base_url
    assert str(banner["database"]).startswith("SQLite ")
    assert str(banner["broker"]).startswith("in-process")
    assert banner["first_account"] == "missing"
    assert migrations[0].startswith("database migrated from empty to ")


async def test_the_hint_goes_once_an_account_exists(
    settings: Settings, user: UserCtx, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await prepare(settings, "http://127.0.0.1:7001", 1)
    banners = [r for r in caplog.records if r.name == "cowrite"]
    assert len(banners) == 1
    assert banners[0].__dict__["fields"]["first_account"] == "exists"
    assert not [r for r in caplog.records if "migrated" in r.getMessage()]  # nothing to do


def test_readable_lines_on_a_terminal() -> None:
    record = logging.LogRecord("cowrite.request", logging.INFO, "", 0, "request", (), None)
    record.fields = {"method": "GET", "path": "/health", "status": 200}
    line = TextFormatter().format(record)
    assert line.endswith("info    request  method=GET path=/health status=200")
    assert not line.startswith("{")
