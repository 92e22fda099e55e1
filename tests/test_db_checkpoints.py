"""A request's SQLite write runs whole on the loop's thread (BEGIN IMMEDIATE and COMMIT too)
unless another process holds the write lock, when it waits for it on its connection's thread;
and the write-ahead log is copied into the database by this process every so many commits."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from cowrite.db import WriteGate, create_engine, request_writes


async def _engine(path: Path) -> AsyncEngine:
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE log (name TEXT)"))
    return engine


async def _traced_write(engine: AsyncEngine, name: str) -> tuple[list[tuple[str, int]], Any]:
    """Write one row in a transaction of its own; every statement SQLite ran for it, with the
    thread it ran on, and the connection's driver."""
    seen: list[tuple[str, int]] = []
    async with engine.connect() as connection:
        raw = await connection.get_raw_connection()
        driver = raw.driver_connection
        driver._conn.set_trace_callback(lambda sql: seen.append((sql, threading.get_ident())))
        try:
            async with connection.begin():
                await connection.execute(text("INSERT INTO log VALUES (:name)"), {"name": name})
        finally:
            driver._conn.set_trace_callback(None)
    return seen, driver


def _threads(seen: list[tuple[str, int]], statement: str) -> set[int]:
    return {thread for sql, thread in seen if sql.startswith(statement)}


async def test_a_request_write_begins_and_commits_on_the_loop_thread(tmp_path: Path) -> None:
    engine = await _engine(tmp_path / "turns.db")
    loop_thread = threading.get_ident()
    try:
        with request_writes():
            seen, _ = await _traced_write(engine, "request")
        assert _threads(seen, "BEGIN IMMEDIATE") == {loop_thread}
        assert _threads(seen, "INSERT") == {loop_thread}
        assert _threads(seen, "COMMIT") == {loop_thread}
        # Background work keeps its waits on the connection's thread.
        seen, _ = await _traced_write(engine, "background")
        assert loop_thread not in _threads(seen, "BEGIN IMMEDIATE") | _threads(seen, "COMMIT")
    finally:
        await engine.dispose()


async def test_a_request_write_waits_for_another_process_on_its_thread(tmp_path: Path) -> None:
    path = tmp_path / "turns.db"
    engine = await _engine(path)
    loop_thread = threading.get_ident()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process has the write lock

        async def write() -> list[tuple[str, int]]:
            with request_writes():
                seen, _ = await _traced_write(engine, "waited")
            return seen

        waiting = asyncio.create_task(write())
        done, _ = await asyncio.wait({waiting}, timeout=0.3)
        assert not done  # waiting for the lock, and the loop is free meanwhile
        other.execute("COMMIT")
        seen = await asyncio.wait_for(waiting, 10)
        begins = [thread for sql, thread in seen if sql.startswith("BEGIN IMMEDIATE")]
        assert begins[-1] != loop_thread  # the one that went through waited on its thread
        assert _threads(seen, "COMMIT") == {loop_thread}
        async with engine.connect() as connection:
            names = [row[0] for row in await connection.execute(text("SELECT name FROM log"))]
        assert names == ["waited"]
    finally:
        other.close()
        await engine.dispose()


def _rows_in_database_file(path: Path, copy: Path) -> int:
    """Rows the database file itself holds, without its write-ahead log."""
    shutil.copyfile(path, copy)
    connection = sqlite3.connect(copy)
    try:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE name = 'log'")
        if tables.fetchone() is None:
            return 0
        return int(connection.execute("SELECT count(*) FROM log").fetchone()[0])
    finally:
        connection.close()


async def test_the_log_is_checkpointed_every_so_many_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cowrite.db.CHECKPOINT_EVERY", 5)
    path = tmp_path / "log.db"
    engine = await _engine(path)  # commit 1
    try:
        gate: WriteGate | None = None
        for number in range(3):  # commits 2 to 4
            with request_writes():
                _, driver = await _traced_write(engine, f"row-{number}")
            gate = driver._gate
        assert gate is not None and gate.checkpoints == 0
        assert _rows_in_database_file(path, tmp_path / "before.db") == 0  # all in the log
        with request_writes():
            await _traced_write(engine, "row-3")  # commit 5: a checkpoint starts
        await asyncio.wait_for(gate.settled(), 10)
        assert gate.checkpoints == 1
        assert _rows_in_database_file(path, tmp_path / "after.db") == 4
    finally:
        await engine.dispose()


def _log_frames(path: Path, page_size: int) -> int:
    """The frames the database's write-ahead log file holds room for (a log that starts again
    is written over from its beginning, so the file's size is its longest run)."""
    return (path.with_name(path.name + "-wal").stat().st_size - 32) // (page_size + 24)


async def test_the_log_starts_again_while_writes_keep_coming(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A log copied while writers go on appending is never wholly copied, and so never starts
    # again from its beginning: it would hold every one of these commits.
    monkeypatch.setattr("cowrite.db.CHECKPOINT_EVERY", 8)
    path = tmp_path / "stream.db"
    engine = await _engine(path)
    try:

        async def writer(number: int) -> None:
            for row in range(40):
                with request_writes():
                    async with engine.begin() as connection:
                        await connection.execute(
                            text("INSERT INTO log VALUES (:name)"), {"name": f"{number}-{row}"}
                        )

        await asyncio.gather(*(writer(number) for number in range(8)))
        async with engine.connect() as connection:
            page_size = (await connection.execute(text("PRAGMA page_size"))).scalar_one()
            count = (await connection.execute(text("SELECT count(*) FROM log"))).scalar_one()
        assert count == 320
        frames = _log_frames(path, page_size)
        assert frames < 100  # 320 commits went through it
    finally:
        await engine.dispose()


async def test_the_log_starts_again_while_another_process_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cowrite.db.CHECKPOINT_EVERY", 8)
    path = tmp_path / "shared.db"
    engine = await _engine(path)
    stop = threading.Event()
    written = 0

    def other_process() -> None:
        """Another server on the same file: short writes, one after the other."""
        nonlocal written
        connection = sqlite3.connect(path, timeout=5, isolation_level=None)
        connection.execute("PRAGMA wal_autocheckpoint=0")  # as cowrite's own connections
        try:
            while not stop.is_set():
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO log VALUES ('other')")
                connection.execute("COMMIT")
                written += 1
                time.sleep(0.002)
        finally:
            connection.close()

    other = threading.Thread(target=other_process)
    other.start()
    rows = 0
    try:
        while rows < 200 or written < 200:  # both go on writing all along
            with request_writes():
                async with engine.begin() as connection:
                    await connection.execute(text("INSERT INTO log VALUES (:name)"), {"name": rows})
            rows += 1
        frames = _log_frames(path, 4096)
    finally:
        stop.set()
        await asyncio.to_thread(other.join)
        await engine.dispose()
    assert frames < (rows + written) // 2
