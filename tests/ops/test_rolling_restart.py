"""An upgrade as operators run it: two processes behind nginx on PostgreSQL and Redis, people
typing through the proxy, each process stopped with SIGTERM and started again in turn."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ops.conftest import proxied_env
from tests.support.collab import INTEROP_DIR, make_document, stored_text
from tests.support.databases import TestDatabase
from tests.support.factories import make_user
from tests.support.nginx import Certificate, Nginx
from tests.support.redis import RedisServer, redis_server
from tests.support.server import ServerProcess

__all__ = ["redis_server"]

pytestmark = [
    pytest.mark.interop,
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.parametrize("database", ["postgres"], indirect=True),
]

SHUTDOWN_TIMEOUT = 5
# The process also saves what it accepted (COWRITE_SHUTDOWN_SAVE_SECONDS, here 3) after the
# requests and sockets are done; the test allows both, plus start-up of the interpreter.
EXIT_WITHIN = SHUTDOWN_TIMEOUT + 3 + 5
EDITS_BETWEEN_RESTARTS = 40
START_WITHIN = 90  # seconds; generous for a busy machine


@dataclass
class Typists:
    """The Node process driving the official Yjs clients (tests/interop/rolling.mjs)."""

    process: asyncio.subprocess.Process
    typed: int = 0

    async def line(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), 60)
        assert raw, "the Yjs clients stopped early"
        message: dict[str, Any] = json.loads(raw)
        self.typed = message.get("typed", self.typed)
        return message

    async def until(self, key: str) -> dict[str, Any]:
        while True:
            message = await self.line()
            if key in message:
                return message

    async def typed_at_least(self, count: int) -> None:
        while self.typed < count:
            await self.line()

    async def finish(self) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(b"stop\n")
        await self.process.stdin.drain()
        result = await self.until("complete")
        await self.process.wait()
        return result


@pytest.fixture
async def typists_factory() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    started: list[asyncio.subprocess.Process] = []
    yield started
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def start_typists(config: dict[str, Any], started: list[Any]) -> Typists:
    process = await asyncio.create_subprocess_exec(
        "node",
        str(INTEROP_DIR / "rolling.mjs"),
        json.dumps(config),
        cwd=INTEROP_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    started.append(process)
    typists = Typists(process)
    await typists.until("ready")
    return typists


def stop_and_time(server: ServerProcess) -> int | None:
    """SIGTERM; the exit status, or None when it had to be killed after EXIT_WITHIN seconds."""
    return server.stop(timeout=EXIT_WITHIN)


async def test_rolling_restart_loses_no_edit_and_no_reader_misses_one(
    database: TestDatabase,
    redis_server: RedisServer,
    certificate: Certificate,
    tls: ssl.SSLContext,
    node_trusts_certificate: None,
    typists_factory: list[asyncio.subprocess.Process],
    tmp_path: Path,
) -> None:
    env = proxied_env(
        database,
        tmp_path / "data",
        COWRITE_REDIS_URL=redis_server.url,
        COWRITE_SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT),
        COWRITE_SHUTDOWN_SAVE_SECONDS="3",
        COWRITE_YJS_REPAIR_INTERVAL_SECONDS="0.5",
    )
    servers = [ServerProcess(env=env, workdir=tmp_path) for _ in range(2)]
    nginx = Nginx(tmp_path / "nginx", certificate, [s.port for s in servers])
    try:
        await asyncio.gather(*(asyncio.to_thread(server.start, START_WITHIN) for server in servers))
        nginx.start()
        async with httpx.AsyncClient(base_url=nginx.base_url, verify=tls) as via:
            people = [await make_user(via) for _ in range(6)]
        document = await make_document(database.url, {person.id: "editor" for person in people})
        tokens = [person.access_token for person in people]
        config = {
            "url": nginx.ws_url,
            "doc": str(document.document_id),
            "writers": tokens[:2],
            "readers": tokens[2:4],
            "quitters": tokens[4:6],
            "interval_ms": 15,
            "quitter_edits": 25,
        }
        typists = await start_typists(config, typists_factory)
        await typists.until("quit")
        await typists.until("quit")  # both quitters are gone for good before any restart

        exits = []
        for server in servers:
            await typists.typed_at_least(typists.typed + EDITS_BETWEEN_RESTARTS)
            exits.append(await asyncio.to_thread(stop_and_time, server))
            await asyncio.to_thread(server.start, START_WITHIN)
        await typists.typed_at_least(typists.typed + EDITS_BETWEEN_RESTARTS)
        result = await typists.finish()
    finally:
        nginx.stop()
        for server in servers:
            server.stop()

    # Each process left by itself within its bound (uvicorn ends by re-raising the SIGTERM
    # it handled; None would mean it had to be killed).
    assert exits == [-signal.SIGTERM, -signal.SIGTERM], [s.logs()[-2000:] for s in servers]
    # Every reader (and writer) ended with every edit anyone typed, after their reconnects.
    assert result["complete"], {k: v for k, v in result.items() if k != "gaps_ms"}
    assert result["typed"]["q0"] == result["typed"]["q1"] == 25
    # Sockets were closed with 1001 "going away" by the stopping process.
    assert result["close_codes"].get("1001", 0) > 0, result["close_codes"]
    # Every edit typed is stored, also those of the people who left before the restarts.
    stored = await stored_text(database.url, uuid.UUID(str(document.document_id)))
    for name, count in result["typed"].items():
        for n in range(count):
            assert f"[{name}:{n}]" in stored, f"[{name}:{n}] is not in the database"
    # Through the proxy nothing failed: no 5xx other than a 503 from a process that drains.
    failed = [line for line in nginx.statuses() if re.match(r"5\d\d ", line)]
    assert all(line.startswith("503 ") for line in failed), failed
