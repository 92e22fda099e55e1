"""One Core SELECT run straight on the database driver, past the engine, the pool and the ORM.

For the few hot reads where a session costs several times the statement itself. The statement
is compiled once by SQLAlchemy for the engine's dialect, and its parameters and values go
through the column types' own processors, so a row holds what the ORM would have handed over.

SQLite reads on the event loop's thread through a connection of its own in autocommit: under
WAL a reader never waits for a writer, and its busy timeout is zero, so a rare busy database is
an error at once (the caller falls back to its ordinary path) rather than a stall of the loop.
PostgreSQL reads through a few asyncpg connections of this reader's own, each statement
prepared once per connection by asyncpg's statement cache.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import Select, make_url
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any] | None
# A reader's callers have another way to the database: a server that does not answer within
# this is left to it rather than waited for as long as asyncpg would (a minute).
CONNECT_TIMEOUT_SECONDS = 5.0


class RawStatement:
    """A SELECT compiled for one dialect, with its parameters in order and its result types."""

    def __init__(self, statement: Select[Any, Any] | Select[Any], dialect: Dialect) -> None:
        compiled: Any = statement.compile(dialect=dialect)  # an SQLCompiler: binds, positions
        self.sql = str(compiled)
        self.columns: list[str] = [column.key or "" for column in statement.selected_columns]
        self._params: list[tuple[str, Any, Processor]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            self._params.append((name, bind.effective_value, process))
        self._results: list[Processor] = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in statement.selected_columns
        ]

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for `values` by name (the statement's constants beside)."""
        out = []
        for name, default, process in self._params:
            value = values.get(name, default)
            out.append(value if process is None else process(value))
        return out

    def row(self, raw: Sequence[Any]) -> list[Any]:
        """A driver's row with each value as its column type gives it."""
        if len(raw) != len(self._results):
            raise ValueError(f"expected {len(self._results)} columns, the driver gave {len(raw)}")
        return [
            value if process is None or value is None else process(value)
            for value, process in zip(raw, self._results, strict=True)
        ]


class RawReader(Protocol):
    async def first(self, statement: RawStatement, values: Mapping[str, Any]) -> list[Any] | None:
        """The statement's first row, or None."""
        ...

    async def close(self) -> None: ...


class SqliteReader:
    """Reads on the loop's thread through one connection (the loop runs one read at a time)."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(
            self._path, timeout=0, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA query_only=ON")
        self._connection = connection
        return connection

    async def first(self, statement: RawStatement, values: Mapping[str, Any]) -> list[Any] | None:
        connection = self._connection or self._connect()
        cursor = connection.execute(statement.sql, statement.arguments(values))
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()
        return None if raw is None else statement.row(raw)

    async def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class PostgresReader:
    """Reads through up to `size` asyncpg connections, opened when first needed; a request finding
    them all busy waits for the next one free. A connection whose read failed is dropped."""

    def __init__(self, dsn: str, size: int) -> None:
        self._dsn = dsn
        self._size = size
        self._idle: list[Any] = []
        self._open = 0
        self._waiters: deque[asyncio.Future[Any]] = deque()
        self._closed = False

    async def _acquire(self) -> Any:
        while self._idle:
            connection = self._idle.pop()
            if not connection.is_closed():
                return connection
            self._open -= 1
        if self._open < self._size:
            import asyncpg

            self._open += 1
            try:
                return await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_SECONDS)
            except BaseException:
                self._open -= 1
                self._wake_one()
                raise
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            connection = await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                handed = waiter.result()  # handed over as this wait was cancelled: pass it on
                if handed is None:
                    self._wake_one()
                else:
                    self._release(handed)
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise
        if connection is None:  # a slot freed up instead of a connection
            return await self._acquire()
        return connection

    def _release(self, connection: Any) -> None:
        if self._closed:
            connection.terminate()
            self._open -= 1
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    def _drop(self, connection: Any) -> None:
        connection.terminate()
        self._open -= 1
        self._wake_one()

    def _wake_one(self) -> None:
        """A waiter may open a connection of its own now that a slot is free."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def first(self, statement: RawStatement, values: Mapping[str, Any]) -> list[Any] | None:
        connection = await self._acquire()
        try:
            raw = await connection.fetchrow(statement.sql, *statement.arguments(values))
        except BaseException:
            self._drop(connection)
            raise
        self._release(connection)
        return None if raw is None else statement.row(raw)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            self._open -= 1
            await connection.close()
        self._wake_one()


def raw_reader(url: str, *, pg_connections: int = 8) -> RawReader | None:
    """A reader for the database at `url` (SQLAlchemy form), or None where there is none: an
    in-memory SQLite database, or a PostgreSQL URL carrying options only SQLAlchemy reads."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database
        if not path or path == ":memory:" or parsed.query:
            return None
        return SqliteReader(path)
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "asyncpg":
        if parsed.query:
            return None
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        return PostgresReader(dsn, pg_connections)
    return None
