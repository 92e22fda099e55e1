"""Fresh databases for a test run: a SQLite file or a PostgreSQL database made and dropped here."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from sqlalchemy import text

from cowrite.db import create_engine
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
        """Empty every table (faster than a new database per test)."""
        engine = create_engine(self.url)
        try:
            async with engine.begin() as connection:
                tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
                if self.backend == "postgres":
                    joined = ", ".join(f'"{name}"' for name in tables)
                    await connection.execute(text(f"TRUNCATE {joined} RESTART IDENTITY CASCADE"))
                else:
                    for name in tables:
                        await connection.execute(text(f'DELETE FROM "{name}"'))
        finally:
            await engine.dispose()


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
