"""Engine and session factory; one unit of work per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_


def create_engine(url: str, *, reader: bool = False, **kwargs: Any) -> AsyncEngine:
    """An engine tuned for the backend: SQLite gets WAL, foreign keys and a busy timeout.

    On SQLite a `reader` engine opens plain (deferred) transactions: under WAL they read a
    snapshot and never wait for, or hold up, a writer. Writers use the default engine.
    """
    if url.startswith("sqlite"):
        if not reader and ":memory:" not in url:
            # SQLite takes one writer at a time. One writer connection makes the others queue
            # in order for it here (an asyncio wait) instead of polling the file lock with
            # backoff; readers have their own engine and never wait for it.
            kwargs.setdefault("pool_size", 1)
            kwargs.setdefault("max_overflow", 0)
            kwargs.setdefault("pool_timeout", 30)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # Take transaction control from the driver so BEGIN can be IMMEDIATE (below).
            dbapi_connection.isolation_level = None

        begin = "BEGIN" if reader else "BEGIN IMMEDIATE"

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(connection: Any) -> None:
            # A deferred transaction that later writes fails at once (SQLITE_BUSY) when another
            # writer got there first; IMMEDIATE takes the write lock up front and waits instead.
            # Sent straight to the driver: one trip to its thread instead of a cursor's three.
            await_(connection.connection.driver_connection.execute(begin))

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def unit_of_work(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """Yield a session; commit when the work succeeds, roll back when it raises."""
    async with factory() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()
