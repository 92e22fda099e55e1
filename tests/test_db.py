"""The engine layer: SQLite writers take turns in the process (log flushes first), a request's
locked statements run on the loop's thread, and PostgreSQL replaces a connection whose server
went away before handing it out."""

from __future__ import annotations

import asyncio
import gc
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from cowrite.db import WriteGate, _sqlite_creator, create_engine, request_writes, urgent_writes
from tests.support.databases import TestDatabase


async def test_gate_hands_the_turn_to_urgent_writers_first() -> None:
    gate = WriteGate()
    assert await gate.acquire()
    order: list[str] = []

    async def writer(name: str, urgent: bool) -> None:
        assert await gate.acquire(urgent=urgent)
        order.append(name)
        gate.release()

    waiting = [
        asyncio.create_task(writer("rest-1", False)),
        asyncio.create_task(writer("rest-2", False)),
        asyncio.create_task(writer("log", True)),
    ]
    await asyncio.sleep(0)
    gate.release()
    await asyncio.gather(*waiting)
    assert order == ["log", "rest-1", "rest-2"]
    assert await gate.acquire()  # open again once everyone is through


async def test_gate_passes_on_a_turn_its_cancelled_waiter_was_handed() -> None:
    gate = WriteGate()
    assert await gate.acquire()
    first = asyncio.create_task(gate.acquire())
    second = asyncio.create_task(gate.acquire())
    await asyncio.sleep(0)
    gate.release()  # handed to `first`...
    first.cancel()  # ...which is cancelled before it runs
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await asyncio.wait_for(second, 5)


async def test_gate_gives_up_after_its_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cowrite.db.GATE_TIMEOUT_SECONDS", 0.05)
    gate = WriteGate()
    assert await gate.acquire()
    assert await gate.acquire() is False  # goes to SQLite's own lock instead
    gate.release()
    assert await gate.acquire()


async def _sqlite_engine(tmp_path: Path) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gate.db'}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE log (name TEXT, thread INTEGER)"))
    return engine


async def _record(engine: AsyncEngine, name: str, hold: asyncio.Event | None = None) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO log VALUES (:name, 0)"), {"name": name})
        if hold is not None:
            await hold.wait()


async def test_sqlite_log_flush_commits_before_queued_rest_writes(tmp_path: Path) -> None:
    engine = await _sqlite_engine(tmp_path)
    try:
        hold = asyncio.Event()
        holder = asyncio.create_task(_record(engine, "holder", hold))
        await asyncio.sleep(0.2)  # it has the write lock now
        rest = [asyncio.create_task(_record(engine, f"rest-{i}")) for i in range(5)]
        await asyncio.sleep(0.1)

        async def flush() -> None:
            with urgent_writes():
                await _record(engine, "log")

        log = asyncio.create_task(flush())
        await asyncio.sleep(0.1)
        hold.set()
        await asyncio.gather(holder, log, *rest)
        async with engine.connect() as connection:
            names = [row[0] for row in await connection.execute(text("SELECT name FROM log"))]
        assert names[:2] == ["holder", "log"]
        assert sorted(names[2:]) == [f"rest-{i}" for i in range(5)]
    finally:
        await engine.dispose()


async def test_sqlite_request_writes_run_on_the_loop_thread_once_locked(tmp_path: Path) -> None:
    engine = await _sqlite_engine(tmp_path)
    try:

        async def threads_of_a_write() -> set[int]:
            seen: set[int] = set()
            async with engine.begin() as connection:
                raw = await connection.get_raw_connection()
                raw.driver_connection._conn.create_function(
                    "thread_of", 0, lambda: seen.add(threading.get_ident()) or 0
                )
                await connection.execute(text("INSERT INTO log VALUES ('x', thread_of())"))
                await connection.execute(text("SELECT thread_of()"))
            return seen

        loop_thread = threading.get_ident()
        assert loop_thread not in await threads_of_a_write()  # background work: its thread
        with request_writes():
            assert await threads_of_a_write() == {loop_thread}
    finally:
        await engine.dispose()


async def test_sqlite_a_write_cancelled_mid_statement_lets_go_of_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer cancelled while its statement runs on the connection's thread (a request whose
    client went away, a task stopped at shutdown) leaves the statement's cursor unread; its
    connection is then dropped. Closed as it is, SQLite would keep the connection's transaction,
    and the write lock with it, until that cursor is collected: every other writer waits."""
    monkeypatch.setattr("cowrite.db.BUSY_TIMEOUT_MS", 3_000)  # a held lock fails the next write
    monkeypatch.setattr("cowrite.db.GATE_TIMEOUT_SECONDS", 3.0)
    engine = await _sqlite_engine(tmp_path)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("INSERT INTO log VALUES ('a', 0), ('b', 0)"))
        running, finish = threading.Event(), threading.Event()

        def stall() -> int:
            running.set()
            finish.wait(10)
            return 0

        async def cancelled_write() -> None:
            async with engine.begin() as connection:
                raw = await connection.get_raw_connection()
                raw.driver_connection._conn.create_function("stall", 0, stall)
                await connection.execute(text("UPDATE log SET thread = 1"))
                await connection.execute(text("SELECT name, stall() FROM log"))

        gc.disable()  # the cursor's frames stay as long as a busy process might keep them
        try:
            task = asyncio.create_task(cancelled_write())
            await asyncio.to_thread(running.wait, 10)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            finish.set()
            await _record(engine, "next")  # within the busy timeout, not after it
        finally:
            gc.enable()
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT name, thread FROM log"))).all()
        assert sorted(rows) == [("a", 0), ("b", 0), ("next", 0)]  # the cancelled write undone
    finally:
        await engine.dispose()


@pytest.mark.parametrize("how", ["close", "stop"])
async def test_sqlite_a_connection_closed_with_a_statement_open_ends_its_transaction(
    tmp_path: Path, how: str
) -> None:
    """However the pool lets go of a writer (closing it, or stopping it without waiting when it
    finds one abandoned), a transaction it was in ends: a statement still open in it does not
    keep the write lock."""
    path = tmp_path / "gate.db"
    await (await _sqlite_engine(tmp_path)).dispose()
    connection = await _sqlite_creator(f"sqlite+aiosqlite:///{path}", reader=False)()
    connection.isolation_level = None  # transactions as the engine runs them: BEGIN by hand
    await connection.execute("INSERT INTO log VALUES ('a', 0), ('b', 0)")
    await connection.execute("BEGIN IMMEDIATE")
    await connection.execute("UPDATE log SET thread = 1")
    open_statement = await connection.execute("SELECT name FROM log")
    assert await open_statement.fetchone() is not None  # one row read, one left

    if how == "close":
        await connection.close()
    else:
        stopped = connection.stop()
        assert stopped is not None
        await stopped

    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # at once: nothing holds the lock
        assert other.execute("SELECT sum(thread) FROM log").fetchone() == (0,)
        other.execute("ROLLBACK")
    finally:
        other.close()
    del open_statement


async def test_postgres_connection_of_a_terminated_backend_is_replaced(
    database: TestDatabase,
) -> None:
    if database.backend != "postgres":
        pytest.skip("PostgreSQL only")
    engine = create_engine(database.url, pool_size=1, max_overflow=0)
    admin = create_engine(database.url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as connection:
            pid = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        await asyncio.sleep(0.5)  # the server's goodbye reaches the pooled connection
        async with engine.connect() as connection:
            again = (await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != pid
    finally:
        await engine.dispose()
        await admin.dispose()
