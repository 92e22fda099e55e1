"""Interop fixtures: users registered on the real server, and the Node client installed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.support.collab import INTEROP_DIR
from tests.support.databases import REQUIRE_SERVICES
from tests.support.server import ServerProcess


@pytest.fixture(autouse=True)
def _node_client_installed() -> None:
    if not (INTEROP_DIR / "node_modules" / "y-websocket").is_dir():
        message = "the Yjs client is not installed: run `npm ci` in tests/interop (make setup)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
async def http(server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        yield client
