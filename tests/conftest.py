"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

`COWRITE_TEST_REQUIRE_SERVICES=1` (set by CI) turns a missing PostgreSQL or Redis into a failure
instead of a skip.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from cowrite.app import create_app
from cowrite.config import Settings
from tests.support.databases import (
    REQUIRE_SERVICES,
    TestDatabase,
    create_database,
    drop_database,
    postgres_available,
)
from tests.support.factories import UserCtx, make_user
from tests.support.server import ServerProcess

pytest_plugins = ["tests.support.failures"]

BACKENDS = ["sqlite", "postgres"]
TEST_SECRET = "test-secret-key-that-is-long-enough-for-hs256-0123456789"


def _takes_long(item: pytest.Item) -> bool:
    """A module that drives a browser or Schemathesis, or a scenario marked slow."""
    name = item.path.name
    slow = item.get_closest_marker("slow") is not None
    return slow or name.endswith("_browser.py") or name == "test_schemathesis.py"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long modules first, in their order, then the rest in theirs: xdist hands whole
    modules to its workers in this order, and one long module near the end would keep one
    worker busy while the other has nothing left."""
    long_modules = {item.path for item in items if _takes_long(item)}
    items.sort(key=lambda item: item.path not in long_modules)


async def _require_backend(backend: str) -> None:
    if backend != "postgres":
        return
    problem = await postgres_available()
    if problem:
        if REQUIRE_SERVICES:
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture(scope="session")
async def databases() -> AsyncIterator[dict[str, TestDatabase]]:
    """The run's databases by backend, each made on first use and dropped at the end."""
    made: dict[str, TestDatabase] = {}
    yield made
    for database in made.values():
        await drop_database(database)


@pytest.fixture(scope="session", params=BACKENDS)
async def database(
    request: pytest.FixtureRequest,
    databases: dict[str, TestDatabase],
    tmp_path_factory: pytest.TempPathFactory,
) -> TestDatabase:
    """One migrated database per backend for the whole run. A worker runs a module's tests of
    one backend, then of the other, then the next module's: pytest sets this fixture up again
    at each switch, and finds the database already made."""
    backend: str = request.param
    await _require_backend(backend)
    if backend not in databases:
        databases[backend] = await create_database(
            backend, tmp_path_factory.mktemp(f"db-{backend}")
        )
    return databases[backend]


@pytest.fixture
async def db(database: TestDatabase) -> AsyncIterator[TestDatabase]:
    """The run's database, emptied after each test."""
    yield database
    await database.clean()


def make_settings(url: str, data_dir: Path, **overrides: object) -> Settings:
    """Settings for tests: cheap password hashing (the real cost is tested on its own)."""
    values: dict[str, object] = {
        "database_url": url,
        "data_dir": data_dir,
        "secret_key": TEST_SECRET,
        "password_hash_memory_kib": 64,
        "password_hash_time_cost": 1,
        # Fixtures register many users from one address; the throttle has tests of its own.
        "register_max_per_address": 100_000,
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(db: TestDatabase, tmp_path: Path) -> Settings:
    return make_settings(db.url, tmp_path / "data")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://cowrite.test") as c:
        yield c


@pytest.fixture
async def user(client: httpx.AsyncClient) -> UserCtx:
    return await make_user(client)


def server_env(db: TestDatabase, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "COWRITE_DATABASE_URL": db.url,
        "COWRITE_DATA_DIR": str(data_dir),
        "COWRITE_SECRET_KEY": TEST_SECRET,
        "COWRITE_PASSWORD_HASH_MEMORY_KIB": "64",
        "COWRITE_PASSWORD_HASH_TIME_COST": "1",
        "COWRITE_REGISTER_MAX_PER_ADDRESS": "100000",
        "COWRITE_LOG_LEVEL": "warning",
        **extra,
    }


@contextmanager
def serving(db: TestDatabase, workdir: Path) -> Iterator[ServerProcess]:
    """A real `cowrite serve` over `db`, its data under `workdir`, stopped on the way out."""
    process = ServerProcess(env=server_env(db, workdir / "data"), workdir=workdir)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
def server(db: TestDatabase, tmp_path: Path) -> Iterator[ServerProcess]:
    """A real `cowrite serve` over this test's database."""
    with serving(db, tmp_path) as process:
        yield process


@pytest.fixture(scope="module")
def shared_server(
    database: TestDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """One real `cowrite serve` per module and backend, for tests that make their own users and
    documents: a module opts in by asking for it in its `server` fixture (with `db`, so that the
    database is still emptied after each test)."""
    with serving(database, tmp_path_factory.mktemp("shared-server")) as process:
        yield process
