"""`RowInsert` writes rows exactly as `session.execute(insert(table), rows)` writes them, and
`FirstRow` reads the row `session.execute(select).first()` reads. In a request's SQLite write,
which holds the write lock on the loop's thread, they hand their statement to the driver
themselves; everywhere else (and for rows that leave a default to fill in) the engine runs it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Uuid,
    bindparam,
    event,
    exists,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from cowrite.db import (
    FirstRow,
    RowInsert,
    create_engine,
    create_session_factory,
    request_writes,
    unit_of_work,
)
from cowrite.models.base import UTCDateTime
from tests.support.databases import TestDatabase


def _table() -> Table:
    return Table(
        f"row_inserts_{uuid.uuid4().hex[:8]}",
        MetaData(),
        Column("id", Uuid, primary_key=True),
        Column("owner", Uuid, nullable=True),
        Column("title", String(100)),
        Column("done", Boolean),
        Column("at", UTCDateTime()),
        Column("body", LargeBinary, nullable=True),
        Column("extra", JSON, nullable=True),
        Column("count", Integer, nullable=True),
        Column("kind", String(8), default="plain"),
    )


@pytest.fixture
async def engine(db: TestDatabase) -> AsyncIterator[tuple[AsyncEngine, Table]]:
    """An engine on the run's database (either backend) and a table of the test's own."""
    table = _table()
    engine = create_engine(db.url)
    async with engine.begin() as connection:
        await connection.run_sync(table.metadata.create_all)
    try:
        yield engine, table
    finally:
        async with engine.begin() as connection:
            await connection.run_sync(table.metadata.drop_all)
        await engine.dispose()


OWNER = uuid.uuid4()


def _row(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": uuid.uuid4(),
        "owner": OWNER,
        "title": "Tab\there, é ✓ 😀, 'quotes'",
        "done": True,
        "at": datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC),
        "body": b"\x00\x01binary\xff",
        "extra": {"a": [1, 2, None], "b": "x"},
        "count": None,
        "kind": "given",
    }
    row.update(changes)
    return row


class _Statements:
    """Counts the statements the engine runs."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.count = 0
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


@dataclass
class Rig:
    """The engine, the test's table, a session factory, a count of the engine's statements and
    a `RowInsert` of the table."""

    engine: AsyncEngine
    table: Table
    factory: async_sessionmaker[AsyncSession]
    statements: _Statements
    ours: RowInsert


@pytest.fixture
def rig(engine: tuple[AsyncEngine, Table]) -> Rig:
    bound, table = engine
    return Rig(bound, table, create_session_factory(bound), _Statements(bound), RowInsert(table))


async def _stored(engine: AsyncEngine, table: Table) -> tuple[list[Any], list[Any]]:
    """Every row as the engine reads it back, and as the database keeps it (plain SQL), ordered
    by title, without the key: each a dict by column."""
    factory = create_session_factory(engine)
    names = [c.name for c in table.c if c.name != "id"]
    async with unit_of_work(factory) as session:
        read = (await session.execute(select(table).order_by(table.c.title))).mappings().all()
        kept = (
            await session.execute(
                text(f"SELECT {', '.join(names)} FROM {table.name} ORDER BY title")
            )
        ).all()
    return (
        [{name: row[name] for name in names} for row in read],
        [dict(zip(names, row, strict=True)) for row in kept],
    )


def _untitled(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != "title"}


async def test_rows_in_a_request_write_are_stored_as_the_engine_stores_them(rig: Rig) -> None:
    with request_writes():
        async with unit_of_work(rig.factory) as session:
            await session.connection()
            before = rig.statements.count
            await rig.ours(session, _row(title="a ours"))
            await rig.ours(
                session, [_row(title="b ours", count=2), _row(title="c ours", done=False)]
            )
            ran = rig.statements.count - before
            await session.execute(insert(rig.table), _row(title="a theirs"))
            await session.execute(
                insert(rig.table),
                [_row(title="b theirs", count=2), _row(title="c theirs", done=False)],
            )
    # SQLite: straight to the driver, past the engine; PostgreSQL: through it, as always.
    assert ran == (0 if rig.engine.dialect.name == "sqlite" else 2)
    read, kept = await _stored(rig.engine, rig.table)
    # In title order each of ours is followed by its twin written by the engine.
    assert [row["title"] for row in read] == [
        f"{letter} {who}" for letter in "abc" for who in ("ours", "theirs")
    ]
    for rows in (read, kept):
        for mine, theirs in zip(rows[0::2], rows[1::2], strict=True):
            assert _untitled(mine) == _untitled(theirs)
    assert read[0]["at"] == datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
    assert read[0]["extra"] == {"a": [1, 2, None], "b": "x"}
    assert read[0]["owner"] == OWNER and read[0]["body"] == b"\x00\x01binary\xff"
    assert [row["done"] for row in read] == [True, True, True, True, False, False]


async def test_background_writes_and_rows_leaving_a_default_go_through_the_engine(rig: Rig) -> None:
    async with unit_of_work(rig.factory) as session:  # not a request's write
        before = rig.statements.count
        await rig.ours(session, _row(title="background"))
        assert rig.statements.count - before == 1
    without_kind = _row(title="defaulted")
    del without_kind["kind"]
    with request_writes():
        async with unit_of_work(rig.factory) as session:
            before = rig.statements.count
            await rig.ours(session, without_kind)
            await rig.ours(session, [])
            assert rig.statements.count - before == 1
    read, _ = await _stored(rig.engine, rig.table)
    assert [(row["title"], row["kind"]) for row in read] == [
        ("background", "given"),
        ("defaulted", "plain"),
    ]


async def test_a_driver_error_is_raised_as_the_engine_raises_it_and_nothing_is_kept(
    rig: Rig,
) -> None:
    first = _row(title="first")
    with pytest.raises(IntegrityError), request_writes():
        async with unit_of_work(rig.factory) as session:
            await rig.ours(session, first)
            await rig.ours(session, _row(id=first["id"], title="same key"))
    # The transaction was rolled back and let go of the lock: the next write goes through.
    with request_writes():
        async with unit_of_work(rig.factory) as session:
            await rig.ours(session, _row(title="next"))
    read, _ = await _stored(rig.engine, rig.table)
    assert [row["title"] for row in read] == ["next"]


async def test_a_first_row_is_the_row_the_engine_reads(rig: Rig) -> None:
    async with unit_of_work(rig.factory) as session:
        await session.execute(insert(rig.table), [_row(title="kept"), _row(title="other", count=7)])
    other = rig.table.alias("other")
    query = select(
        rig.table.c.owner,
        rig.table.c.title,
        rig.table.c.done,
        rig.table.c.at,
        rig.table.c.body,
        rig.table.c.extra,
        rig.table.c.count,
        exists().where(other.c.count == bindparam("count")),
    ).where(rig.table.c.title == bindparam("title"))
    first = FirstRow(query)
    cases = [
        {"title": "kept", "count": 7},
        {"title": "kept", "count": 8},
        {"title": "missing", "count": 7},
    ]
    for background in (False, True):
        for params in cases:
            with nullcontext() if background else request_writes():
                async with unit_of_work(rig.factory) as session:
                    await session.connection()
                    before = rig.statements.count
                    ours = await first(session, params)
                    ran = rig.statements.count - before
                    theirs = (await session.execute(query, params)).first()
            assert ours == (None if theirs is None else tuple(theirs))
            straight = rig.engine.dialect.name == "sqlite" and not background
            assert ran == (0 if straight else 1)
    async with unit_of_work(rig.factory) as session:
        found = await first(session, {"title": "kept", "count": 7})
    assert found is not None
    assert found[0] == OWNER and found[2] is True and found[7] is True
    assert found[3] == datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
