"""Fresh databases for a test run: a SQLite file or a PostgreSQL database made and dropped here."""

from __future__ import annotations

import asyncio
import os
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from cowrite.migrate import upgrade
from cowrite.models import Base

POSTGRES_ADMIN_DSN = os.environ.get(
    "COWRITE_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("COWRITE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
REQUIRE_SERVICES = os.environ.get("COWRITE_TEST_REQUIRE_SERVICES") == "1"


def _dsn_with_db(name: str) -> str:
    base = POSTGRES_ADMIN_DSN.rsplit("/", 1)[0]
    return f"{base}/{name}"


def sqlalchemy_url(dsn: str) -> str:
    return dsn.replace("postgresql://", "postgresql+asyncpg://", 1)


async def postgres_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN, timeout=3)
    except Exception as exc:
        return f"PostgreSQL unavailable at {POSTGRES_ADMIN_DSN}: {exc!r}"
    await connection.close()
    return None


@dataclass
class TestDatabase:
    __test__ = False

    backend: str
    url: str
    name: str | None = None

    async def clean(self) -> None:
        """Empty every table, children first, in one transaction. DELETE, not TRUNCATE: the
        tables hold a test's few rows, and PostgreSQL's TRUNCATE makes new files for every
        table and index (most of a second per test), and waits for a server's open reads."""
        tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        deletes = "".join(f'DELETE FROM "{name}";' for name in tables)
        if self.backend == "postgres":
            assert self.name is not None
            connection = await asyncpg.connect(_dsn_with_db(self.name))
            try:
                # A server shared by a module may still be writing what the test left behind
                # (a closing socket's session, a room's last updates); PostgreSQL then picks one
                # of the two transactions to abort, and the emptying is simply done again.
                for attempt in range(5):
                    try:
                        async with connection.transaction():
                            # One round trip; the sequences restart, as TRUNCATE … RESTART
                            # IDENTITY did.
                            await connection.execute(deletes + _RESTART_SEQUENCES)
                        break
                    except asyncpg.exceptions.DeadlockDetectedError:
                        if attempt == 4:
                            raise
                        await asyncio.sleep(0.05)
            finally:
                await connection.close()
        else:
            await asyncio.to_thread(_clean_sqlite, self.url, deletes)


_RESTART_SEQUENCES = (
    "SELECT setval(c.oid, 1, false) FROM pg_class c"
    " WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace;"
)


def _clean_sqlite(url: str, deletes: str) -> None:
    path = url.split(":///", 1)[1]
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        connection.execute("PRAGMA foreign_keys=ON")
        connection.executescript(f"BEGIN IMMEDIATE;{deletes}COMMIT;")
    finally:
        connection.close()


async def create_database(backend: str, workdir: Path) -> TestDatabase:
    """A new, migrated database of the given backend."""
    if backend == "sqlite":
        path = workdir / f"cowrite-{secrets.token_hex(4)}.db"
        database = TestDatabase(backend, f"sqlite+aiosqlite:///{path}")
    else:
        name = f"cowrite_test_{secrets.token_hex(6)}"
        connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
        try:
            await connection.execute(f'CREATE DATABASE "{name}"')
        finally:
            await connection.close()
        database = TestDatabase(backend, sqlalchemy_url(_dsn_with_db(name)), name)
    await upgrade(database.url)
    return database


async def drop_database(database: TestDatabase) -> None:
    if database.backend != "postgres" or not database.name:
        return
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database.name}" WITH (FORCE)')
    finally:
        await connection.close()
