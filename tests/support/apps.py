"""A second app over the same database, served in-process: what a lean path is compared with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from cowrite.app import create_app
from cowrite.config import Settings


@asynccontextmanager
async def served(
    settings: Settings, **update: object
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """An app with `settings` changed by `update`, started, and a client of its own."""
    app = create_app(settings.model_copy(update=update))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40001))
        async with httpx.AsyncClient(transport=transport, base_url="http://cowrite.test") as c:
            yield app, c
