"""A private `redis-server` on a free port that a test may stop and start again.

Tests that need to break Redis use this instead of the shared server. Without the binary the
tests skip, or fail when `COWRITE_TEST_REQUIRE_SERVICES=1`.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.databases import REQUIRE_SERVICES
from tests.support.server import free_port

REDIS_SERVER = shutil.which("redis-server")


@dataclass
class RedisServer:
    """One throw-away Redis without persistence; `stop()` and `start()` keep the port."""

    workdir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, timeout: float = 10.0) -> RedisServer:
        assert REDIS_SERVER is not None
        log = (self.workdir / f"redis-{self.port}.log").open("ab")
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            if self._answers():
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Kill the server at once: clients see their connections reset, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def require_redis_server() -> None:
    if REDIS_SERVER is None:
        message = "redis-server is not installed"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A private Redis for one test."""
    require_redis_server()
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


async def eventually(predicate: Callable[[], Awaitable[bool] | bool], within: float = 10.0) -> None:
    """Poll a condition that no event announces (a dropped socket, a key expiring)."""
    deadline = time.monotonic() + within
    for _ in range(1_000_000):
        result = predicate()
        if result if isinstance(result, bool) else await result:
            return
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition not met within {within}s")
