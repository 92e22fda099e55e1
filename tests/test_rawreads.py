"""Reads straight on the driver: values as the ORM gives them, more reads than connections,
and a connection the server dropped replaced by the next read."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import create_async_engine

from cowrite.db import create_session_factory, unit_of_work
from cowrite.models import User
from cowrite.rawreads import PostgresReader, RawStatement, raw_reader
from tests.support.databases import TestDatabase

USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


async def _a_user(db: TestDatabase) -> User:
    engine = create_async_engine(db.url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            user = User(
                email=f"{uuid.uuid4().hex[:8]}@example.com",
                full_name="Ada",
                password_hash="x",
                created_at=datetime(2026, 12, 7, 8, 0, 0, 123456, tzinfo=UTC),
                updated_at=datetime(2026, 12, 7, 8, 0, 0, tzinfo=UTC),
            )
            session.add(user)
        return user
    finally:
        await engine.dispose()


async def test_a_row_holds_what_the_orm_would_hand_over(db: TestDatabase) -> None:
    user = await _a_user(db)
    engine = create_async_engine(db.url)
    statement = RawStatement(USER_BY_ID, engine.dialect)
    await engine.dispose()
    reader = raw_reader(db.url)
    assert reader is not None
    try:
        row = await reader.first(statement, {"user_id": user.id})
        assert row is not None
        values = dict(zip(statement.columns, row, strict=True))
        assert values["id"] == user.id and values["email"] == user.email
        assert values["created_at"] == user.created_at and values["created_at"].tzinfo is not None
        assert values["updated_at"] == user.updated_at
        assert await reader.first(statement, {"user_id": uuid.uuid4()}) is None
    finally:
        await reader.close()


@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_reads_share_a_few_connections_and_outlive_a_dropped_one(db: TestDatabase) -> None:
    user = await _a_user(db)
    engine = create_async_engine(db.url)
    statement = RawStatement(USER_BY_ID, engine.dialect)
    await engine.dispose()
    reader = raw_reader(db.url, pg_connections=2)
    assert isinstance(reader, PostgresReader)
    try:
        rows = await asyncio.gather(
            *(reader.first(statement, {"user_id": user.id}) for _ in range(20))
        )
        assert all(
            row is not None and row[statement.columns.index("id")] == user.id for row in rows
        )

        # The server ends the reader's connections (a restart, an administrator): the read
        # that meets a dead one fails, and the next one opens a new connection.
        admin = await asyncpg.connect(db.url.replace("postgresql+asyncpg", "postgresql"))
        try:
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        finally:
            await admin.close()
        outcomes = []
        for _ in range(3):
            try:
                outcomes.append(await reader.first(statement, {"user_id": user.id}) is not None)
            except Exception:  # whatever the driver makes of the closed socket
                outcomes.append(False)
        assert outcomes[-1] is True
    finally:
        await reader.close()
