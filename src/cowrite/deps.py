"""App-wide dependencies: the state and one database session per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from cowrite.config import Settings
from cowrite.db import unit_of_work
from cowrite.state import AppState


def get_state(connection: HTTPConnection) -> AppState:
    state: AppState = connection.app.state.cowrite
    return state


def get_settings(connection: HTTPConnection) -> Settings:
    return get_state(connection).settings


async def get_db(request: Request) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(get_state(request).session_factory) as session:
        yield session


State = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
# scope="function": the commit happens before the response is sent, so a client that reads
# right after a write sees it.
DbSession = Annotated[AsyncSession, Depends(get_db, scope="function")]
