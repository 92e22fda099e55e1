"""App-wide dependencies: the state and one database session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from cowrite.config import Settings
from cowrite.db import request_writes, unit_of_work
from cowrite.state import AppState

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_state(connection: HTTPConnection) -> AppState:
    state: AppState = connection.app.state.cowrite
    return state


def get_settings(connection: HTTPConnection) -> Settings:
    return get_state(connection).settings


@asynccontextmanager
async def request_session(state: AppState, method: str) -> AsyncIterator[AsyncSession]:
    """A request's unit of work: a reader's for the read methods, else a writer's (short
    transactions); it commits before the response goes out."""
    if method in READ_METHODS:
        async with unit_of_work(state.reader_factory) as session:
            yield session
        return
    with request_writes():
        async with unit_of_work(state.session_factory) as session:
            yield session


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with request_session(get_state(request), request.method) as session:
        yield session


async def _state_dependency(connection: HTTPConnection) -> AppState:
    # Async on purpose: FastAPI runs a plain `def` dependency in a worker thread, a hop that
    # costs more than the lookup itself on every request.
    return get_state(connection)


async def _settings_dependency(connection: HTTPConnection) -> Settings:
    return get_settings(connection)


State = Annotated[AppState, Depends(_state_dependency)]
SettingsDep = Annotated[Settings, Depends(_settings_dependency)]
# scope="function": the commit happens before the response is sent, so a client that reads
# right after a write sees it.
DbSession = Annotated[AsyncSession, Depends(get_db, scope="function")]
