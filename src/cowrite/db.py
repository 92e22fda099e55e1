"""Engine and session factory; one unit of work per request."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util import await_


class _SqliteConnection(aiosqlite.Connection):
    """aiosqlite, except that the calls which never wait for the database file run on the event
    loop's thread instead of a round trip through the connection's own thread: making and
    closing a cursor always; for a reader also BEGIN (deferred: it takes no lock), COMMIT and
    ROLLBACK (they only let go of its read snapshot). Only while the connection's thread is
    idle: a call queued behind a statement that is still running there (one whose request was
    cancelled, say, and the close that follows it) waits its turn as before, so the sqlite3
    connection is never used from two threads at once."""

    def __init__(self, connector: Callable[[], Any], *, reader: bool) -> None:
        super().__init__(connector, 64)
        self._thread.daemon = True
        self._inline = _READER_INLINE if reader else _WRITER_INLINE
        self.reader = reader
        self._queued = 0  # calls handed to the connection's thread and not yet finished there
        self._queued_lock = threading.Lock()

    def _idle(self) -> bool:
        with self._queued_lock:
            return self._queued == 0

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if (
            self._connection is not None
            and getattr(fn, "__name__", "") in self._inline
            and self._idle()
        ):
            return fn(*args, **kwargs)
        if not self._running or self._connection is None:
            raise ValueError("Connection closed")
        with self._queued_lock:
            self._queued += 1

        def run() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                with self._queued_lock:
                    self._queued -= 1

        return await super()._execute(run)

    async def begin(self, statement: str) -> None:
        if self.reader and self._idle():
            self._conn.execute(statement).close()
        else:
            await self.execute(statement)


_WRITER_INLINE = frozenset({"cursor", "close"})
_READER_INLINE = _WRITER_INLINE | {"commit", "rollback"}


def _sqlite_creator(url: str, *, reader: bool) -> Callable[[], Any]:
    path = make_url(url).database or ":memory:"

    def connect() -> Any:
        # The cursor and transaction calls above come from the loop's thread, never at the
        # same time as a statement on the connection's thread (each connection serves one
        # session at a time); SQLite itself is built serialized.
        def connector() -> Any:
            import sqlite3

            return sqlite3.connect(path, timeout=30, check_same_thread=False)

        return _SqliteConnection(connector, reader=reader)

    return connect


def create_engine(url: str, *, reader: bool = False, **kwargs: Any) -> AsyncEngine:
    """An engine tuned for the backend: SQLite gets WAL, foreign keys and a busy timeout.

    On SQLite a `reader` engine opens plain (deferred) transactions: under WAL they read a
    snapshot and never wait for, or hold up, a writer. Writers use the default engine.
    """
    if url.startswith("sqlite"):
        if ":memory:" not in url:
            kwargs.setdefault("async_creator", _sqlite_creator(url, reader=reader))
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
            driver = connection.connection.driver_connection
            if isinstance(driver, _SqliteConnection):
                await_(driver.begin(begin))
            else:
                await_(driver.execute(begin))

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


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction commits (never if it rolls back)."""
    event.listen(session.sync_session, "after_commit", lambda _session: callback(), once=True)
