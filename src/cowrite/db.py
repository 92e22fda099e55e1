"""Engine and session factory; one unit of work per request."""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import aiosqlite
from sqlalchemy import Select, Table, event, insert, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.types import TypeEngine
from sqlalchemy.util import await_

log = logging.getLogger(__name__)

# Set while the Yjs update log writes: its flushes go before other writers waiting their turn.
_URGENT = ContextVar("cowrite_urgent_writes", default=False)
# How long a writer waits for its turn before going to SQLite's own lock as it would without the
# gate (the same bound as the busy timeout), so a writer can never wait on the gate for ever.
GATE_TIMEOUT_SECONDS = 30.0
BUSY_TIMEOUT_MS = 30_000
# Commits between two checkpoints of the write-ahead log. This process runs them itself, on a
# thread: SQLite's own would run inside a COMMIT, which a request's writer sends from the loop's
# thread (see _SqliteConnection).
CHECKPOINT_EVERY = 64
CHECKPOINT_WAIT_SECONDS = 0.02


# Set for a request's unit of work: its transactions are short (see _SqliteConnection).
_REQUEST_WRITES = ContextVar("cowrite_request_writes", default=False)


@contextmanager
def _flag_set(flag: ContextVar[bool]) -> Iterator[None]:
    token = flag.set(True)
    try:
        yield
    finally:
        flag.reset(token)


def request_writes() -> AbstractContextManager[None]:
    """Transactions begun inside are a request's own: short, run on the loop while locked."""
    return _flag_set(_REQUEST_WRITES)


def urgent_writes() -> AbstractContextManager[None]:
    """Transactions begun inside go first among this process's SQLite writers."""
    return _flag_set(_URGENT)


class WriteGate:
    """The writers of one SQLite database in this process take turns here before BEGIN
    IMMEDIATE, urgent ones first. Without it every waiting writer polls the file lock in SQLite's
    busy handler, whose sleeps grow to 100 ms: under a burst of writes that is most of the time
    spent and a long tail of waits. Other processes still meet at the file lock."""

    def __init__(self, path: str | None = None) -> None:
        self._path = path
        self._held = False
        self._commits = 0  # since the last checkpoint of the log
        self._checkpointing: asyncio.Task[None] | None = None
        self.checkpoints = 0  # run by this process
        self._copier: sqlite3.Connection | None = None  # the checkpoints' own connection
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._normal: deque[asyncio.Future[None]] = deque()

    async def acquire(self, *, urgent: bool = False) -> bool:
        """Wait for the turn; False when it did not come within the timeout."""
        if not self._held and not self._urgent and not self._normal:
            self._held = True
            return True
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._urgent if urgent else self._normal
        queue.append(waiter)
        try:
            async with asyncio.timeout(GATE_TIMEOUT_SECONDS):
                await waiter
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                return True  # handed the turn as the timeout struck
            if waiter in queue:
                queue.remove(waiter)
            return False
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                self.release()  # handed the turn, then cancelled: pass it on
            elif waiter in queue:
                queue.remove(waiter)
            raise
        return True

    def release(self) -> None:
        """Hand the turn to the next writer (urgent ones first), or leave the gate open."""
        for queue in (self._urgent, self._normal):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._held = False

    def committed(self) -> None:
        """Count a commit; every `CHECKPOINT_EVERY`, copy the log into the database."""
        self._commits += 1
        if self._commits < CHECKPOINT_EVERY or self._checkpointing is not None or not self._path:
            return
        self._commits = 0
        self._checkpointing = asyncio.get_running_loop().create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        """First the bulk of the copy beside the writers (PASSIVE: it waits for no one); then,
        in a turn of its own among this process's writers and with the write lock against other
        processes' for that moment (RESTART), the few frames written meanwhile: a log still being
        appended to is never wholly copied, and only a wholly copied log starts again from its
        beginning (else it grows for as long as the writes go on). So writers wait only for the
        tail of the copy. Both run on a thread, through a connection of their own."""
        try:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, self._copy_log, "PASSIVE")
            if not await self.acquire(urgent=True):
                return
            try:
                await loop.run_in_executor(None, self._copy_log, "RESTART")
            finally:
                self.release()
            self.checkpoints += 1
        except Exception:
            log.warning("checkpoint of the write-ahead log failed", exc_info=True)
        finally:
            self._checkpointing = None

    def _copy_log(self, mode: str) -> None:
        assert self._path is not None
        if self._copier is None:
            # Kept open from one checkpoint to the next: a new connection would read the whole
            # schema again before its first statement, a cost as large as the copy itself.
            # RESTART waits this long at most for another process's writer or an old reader
            # (this process's writers wait meanwhile); what cannot be copied by then stays for
            # the next checkpoint. One checkpoint runs at a time, on whichever executor thread.
            self._copier = sqlite3.connect(
                self._path,
                timeout=CHECKPOINT_WAIT_SECONDS,
                isolation_level=None,
                check_same_thread=False,
            )
        self._copier.execute(f"PRAGMA wal_checkpoint({mode})").close()

    async def settled(self) -> None:
        """Wait for the checkpoint under way, if there is one."""
        if self._checkpointing is not None:
            await asyncio.shield(self._checkpointing)


class _SqliteConnection(aiosqlite.Connection):
    """aiosqlite, except that the calls which never wait for the database file run on the event
    loop's thread instead of a round trip through the connection's own thread: making and
    closing a cursor, fetching rows and ROLLBACK (it only lets go) always; for a reader also
    BEGIN (deferred: it takes no lock) and COMMIT (it lets go of its read snapshot). Only while
    the connection's thread is idle: a call queued behind a statement that is still running
    there (one whose request was cancelled, say, and the close that follows it) waits its turn
    as before, so the sqlite3 connection is never used from two threads at once.

    A request's writer runs its whole transaction on the loop's thread: BEGIN IMMEDIATE when the
    write lock is free at that instant (else it waits for it on the connection's thread, as
    background work always does); then its statements, which cannot wait for a lock any more;
    then COMMIT, which only appends to the log: SQLite's own checkpoints are off, and this process
    runs them on a thread every `CHECKPOINT_EVERY` commits (`WriteGate.committed`). Every trip to
    the connection's thread would otherwise keep the lock held through a turn of the whole event
    loop, while every other writer waits. The statements of background work (purges, imports,
    compaction), which may be long, still go to the connection's thread."""

    def __init__(
        self, connector: Callable[[], Any], *, reader: bool, gate: WriteGate | None = None
    ) -> None:
        super().__init__(connector, 64)
        self._thread.daemon = True
        self._inline = _READER_INLINE if reader else _WRITER_INLINE
        self.reader = reader
        self._gate = gate
        self._in_gate = False  # this connection's transaction holds the gate
        self._locked = False  # BEGIN IMMEDIATE went through: the write lock is this one's
        self._queued = 0  # calls handed to the connection's thread and not yet finished there
        self._queued_lock = threading.Lock()

    def _idle(self) -> bool:
        with self._queued_lock:
            return self._queued == 0

    async def _execute(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        if self._connection is not None:
            name = getattr(fn, "__name__", "")
            inline = name in self._inline or (self._locked and name in _LOCKED_INLINE)
            if inline and self._idle():
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
            return
        if self._gate is not None and not self._in_gate:
            self._in_gate = await self._gate.acquire(urgent=_URGENT.get())
        request = not self.reader and _REQUEST_WRITES.get()
        try:
            if not (request and self._idle() and self._begin_at_once(statement)):
                await self.execute(statement)
        except BaseException:
            self._leave_gate()
            raise
        self._locked = request

    def _begin_at_once(self, statement: str) -> bool:
        """BEGIN on the loop's thread if the write lock is free this instant; False when
        another process holds it (the caller then waits for it on the connection's thread)."""
        connection = self._conn
        connection.execute("PRAGMA busy_timeout=0").close()
        try:
            connection.execute(statement).close()
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            return False
        finally:
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}").close()
        return True

    def _leave_gate(self) -> None:
        self._locked = False
        if self._in_gate and self._gate is not None:
            self._in_gate = False
            self._gate.release()

    def locked_here(self) -> bool:
        """Whether this connection's transaction holds the write lock on the loop's thread,
        with nothing queued on its own thread: a statement may go to the driver at once."""
        return self._locked and self._idle()

    def first_now(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The first row of `sql` run on the loop's thread (only when `locked_here`)."""
        cursor = self._conn.execute(sql, params)
        try:
            row: tuple[Any, ...] | None = cursor.fetchone()
            return row
        finally:
            cursor.close()

    def run_now(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Run `sql` for each row on the loop's thread (only when `locked_here`)."""
        if len(rows) == 1:
            self._conn.execute(sql, rows[0]).close()
        else:
            self._conn.executemany(sql, rows).close()

    async def commit(self) -> None:
        gate = self._gate
        try:
            if self.locked_here():
                self._conn.commit()
            else:
                await super().commit()
        finally:
            self._leave_gate()
        if gate is not None:
            gate.committed()

    async def rollback(self) -> None:
        try:
            await super().rollback()
        finally:
            self._leave_gate()

    async def close(self) -> None:
        try:
            if self._connection is not None:
                await self._execute(_close_released, self._connection)
            await super().close()  # stops the connection's thread
        finally:
            self._leave_gate()

    def stop(self) -> asyncio.Future[Any] | None:
        """Close without waiting (the pool's way with a connection it finds abandoned), on the
        connection's thread after what is queued there, ending its transaction first too."""
        if self._connection is not None:
            self._tx.put_nowait((None, functools.partial(_close_released, self._connection)))
        return super().stop()


def _close_released(connection: sqlite3.Connection) -> None:
    """Close `connection`, first ending the transaction it may still be in. A connection is
    dropped in mid-transaction when its user was cancelled during a statement (a request whose
    client went away, work stopped at shutdown): that statement's cursor is then left unread,
    and SQLite closes a connection with a statement still open only once the statement is
    finalized, when its cursor is collected; until then the connection's transaction, and the
    write lock with it, would stay, and every other writer wait. ROLLBACK ends the transaction
    and aborts such a statement."""
    if connection.in_transaction:
        connection.rollback()
    connection.close()


# Sessions a process may hold at once before the pool opens short-lived extra connections (up
# to as many again): about the number of requests in flight under a busy load.
POOL_SIZE = 32
# Fetching the rows of a statement that already ran never waits for a lock (the statement's
# first step took the locks it needs), so every connection fetches on the loop's thread.
# Nor does a ROLLBACK (under WAL it only lets go), which the pool also sends to every connection
# it takes back.
_WRITER_INLINE = frozenset(
    {"cursor", "close", "fetchone", "fetchmany", "fetchall", "rollback", _close_released.__name__}
)
_READER_INLINE = _WRITER_INLINE | {"commit"}
# What a writer holding the write lock runs on the loop's thread as well.
_LOCKED_INLINE = frozenset({"execute", "executemany"})


def _sqlite_creator(url: str, *, reader: bool) -> Callable[[], Any]:
    path = make_url(url).database or ":memory:"
    gate = None if reader else WriteGate(path)

    def connect() -> Any:
        # The cursor and transaction calls above come from the loop's thread, never at the
        # same time as a statement on the connection's thread (each connection serves one
        # session at a time); SQLite itself is built serialized.
        def connector() -> Any:
            return sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)

        return _SqliteConnection(connector, reader=reader, gate=gate)

    return connect


def create_engine(url: str, *, reader: bool = False, **kwargs: Any) -> AsyncEngine:
    """An engine tuned for the backend: SQLite gets WAL, foreign keys and a busy timeout.

    On SQLite a `reader` engine opens plain (deferred) transactions: under WAL they read a
    snapshot and never wait for, or hold up, a writer. Writers use the default engine.
    """
    if url.startswith("sqlite"):
        if ":memory:" not in url:
            kwargs.setdefault("async_creator", _sqlite_creator(url, reader=reader))
            # Connections beyond the pool's size are opened and closed again for each request
            # under load: a thread, a file open and a schema parse every time.
            kwargs.setdefault("pool_size", POOL_SIZE)
            kwargs.setdefault("max_overflow", POOL_SIZE)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            if not reader:
                # Checkpoints are this process's (see _SqliteConnection.commit).
                cursor.execute("PRAGMA wal_autocheckpoint=0")
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
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", POOL_SIZE)
    engine = create_async_engine(url, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        event.listen(engine.sync_engine.pool, "checkout", _drop_closed_connection)
    return engine


def _drop_closed_connection(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
    """A pooled connection whose server went away (a restart, a kill) is replaced before use.

    The driver notices a closed socket by itself, so this costs no round trip, where SQLAlchemy's
    pre-ping spends three on every checkout (BEGIN, a ping, ROLLBACK). A connection that breaks
    while in use still fails its request with a 503 and is dropped by the pool."""
    is_closed = getattr(record.driver_connection, "is_closed", None)
    if is_closed is not None and is_closed():
        raise DisconnectionError("the database closed this connection")


def create_reader_engine(engine: AsyncEngine, url: str) -> AsyncEngine:
    """The engine of sessions that only read (GET requests, socket admission, exports).

    SQLite: an engine of its own whose deferred transactions never take the write lock.
    PostgreSQL: the same pool in autocommit, so a read is one round trip instead of BEGIN, the
    statement and COMMIT; each statement still reads committed data, as under READ COMMITTED.
    """
    if url.startswith("sqlite"):
        return create_engine(url, reader=True)
    return engine.execution_options(isolation_level="AUTOCOMMIT")


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


_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _LockedDriver:
    connection: _SqliteConnection
    dialect: Dialect

    def convert_in(self, type_: TypeEngine[Any]) -> _Processor:
        """SQLAlchemy's own conversion of a value of `type_` for this driver (None: as it is)."""
        return type_.dialect_impl(self.dialect).bind_processor(self.dialect)

    def run(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """`run_now`, with a driver error raised as SQLAlchemy raises it."""
        try:
            self.connection.run_now(sql, rows)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, rows, exc, sqlite3.Error) from exc

    def first(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """`first_now`, with a driver error raised as SQLAlchemy raises it."""
        try:
            return self.connection.first_now(sql, params)
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, params, exc, sqlite3.Error) from exc


async def _locked_sqlite_driver(session: AsyncSession) -> _LockedDriver | None:
    """The session's SQLite driver connection, when its transaction holds the write lock on
    the loop's thread (`_SqliteConnection.locked_here`); else None."""
    bind = session.bind
    if bind is None or bind.dialect.name != "sqlite":
        return None
    connection = await session.connection()
    sync = connection.sync_connection
    driver = None if sync is None else sync.connection.driver_connection
    if isinstance(driver, _SqliteConnection) and driver.locked_here():
        return _LockedDriver(driver, bind.dialect)
    return None


class RowInsert:
    """An INSERT of whole rows into one table, for the hot paths that write new rows no one has
    read yet (a document, its first version, its creator's subscription).

    In a request's SQLite write transaction, which holds the write lock on the loop's thread
    (`_SqliteConnection`), the rows go straight to the driver: the statement compiled once per
    set of columns, each value converted by SQLAlchemy's own conversion for its column type, a
    driver error raised as SQLAlchemy raises it. That skips the engine's per-statement work
    (about nine tenths of an insert's cost there). Everywhere else (PostgreSQL, background
    work, a transaction still waiting for the lock) and for rows that leave out a column with a
    default to fill in, it is `session.execute(insert(table), rows)`, as always."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.statement = insert(table)
        # columns given -> the SQL and each value's conversion, in the SQL's order
        self._compiled: dict[tuple[str, ...], tuple[str, list[tuple[str, _Processor]]] | None] = {}

    async def __call__(
        self, session: AsyncSession, rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    ) -> None:
        many = list(rows) if isinstance(rows, Sequence) else [rows]
        if not many:
            return
        driver = await _locked_sqlite_driver(session)
        plan = None
        if driver is not None and all(tuple(row) == tuple(many[0]) for row in many):
            plan = self._plan(tuple(many[0]), driver)
        if driver is None or plan is None:
            await session.execute(self.statement, many if isinstance(rows, Sequence) else rows)
            return
        sql, columns = plan
        values = [
            tuple(row[key] if convert is None else convert(row[key]) for key, convert in columns)
            for row in many
        ]
        driver.run(sql, values)

    def _plan(
        self, keys: tuple[str, ...], driver: _LockedDriver
    ) -> tuple[str, list[tuple[str, _Processor]]] | None:
        if keys in self._compiled:
            return self._compiled[keys]
        plan = None
        given = set(keys)
        fills_in = any(
            column.key not in given and column.default is not None for column in self.table.c
        )
        if given <= set(self.table.c.keys()) and not fills_in:
            compiled = self.statement.compile(dialect=driver.dialect, column_keys=list(keys))
            order = list(compiled.positiontup or ())
            if sorted(order) == sorted(keys):
                columns: list[tuple[str, _Processor]] = [
                    (key, driver.convert_in(self.table.c[key].type)) for key in order
                ]
                plan = (compiled.string, columns)
        self._compiled[keys] = plan
        return plan


class FirstRow:
    """A prebuilt SELECT whose first row a hot path reads inside its write transaction (the
    caller's role as a create checks it). Like `RowInsert`: in a request's SQLite write, which
    holds the write lock on the loop's thread, it goes straight to the driver, compiled once,
    its parameters and columns converted by SQLAlchemy's own conversions for their types;
    everywhere else it is `session.execute(statement, params).first()`."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: tuple[str, list[tuple[str, _Processor]], list[_Processor]] | None = None

    async def __call__(
        self, session: AsyncSession, params: Mapping[str, Any]
    ) -> tuple[Any, ...] | None:
        driver = await _locked_sqlite_driver(session)
        if driver is None:
            row = (await session.execute(self.statement, params)).first()
            return None if row is None else tuple(row)
        sql, binds, columns = self._plan(driver)
        values = tuple(
            params[name] if convert is None else convert(params[name]) for name, convert in binds
        )
        found = driver.first(sql, values)
        if found is None:
            return None
        return tuple(
            value if convert is None else convert(value)
            for value, convert in zip(found, columns, strict=True)
        )

    def _plan(
        self, driver: _LockedDriver
    ) -> tuple[str, list[tuple[str, _Processor]], list[_Processor]]:
        if self._compiled is None:
            dialect = driver.dialect
            compiled = self.statement.compile(dialect=dialect)
            binds: list[tuple[str, _Processor]] = [
                (name, driver.convert_in(compiled.binds[name].type))
                for name in compiled.positiontup or ()
            ]
            columns: list[_Processor] = [
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.selected_columns
            ]
            self._compiled = (compiled.string, binds, columns)
        return self._compiled


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction commits (never if it rolls back)."""
    event.listen(session.sync_session, "after_commit", lambda _session: callback(), once=True)
