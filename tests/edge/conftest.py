"""A real `cowrite serve` per database and WebSocket transport, and what every attack test
checks around the attack: the server's memory, `/health`, and the room still working."""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pycrdt import Doc, Text
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cowrite.collab import protocol
from tests.conftest import server_env
from tests.support.collab import DocCtx, make_document
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx, make_user
from tests.support.server import ServerProcess

ROOT = Path(__file__).resolve().parents[2]
TRANSPORTS = ["lean", "websockets-sansio"]
MAX_DOCUMENT = 1024 * 1024
HEALTH_BOUND = 0.1  # seconds the median `/health` probe may take while an attack runs
HEALTH_STALL = 0.5  # seconds no single probe may take (the stalls: 0.7-5.9 s)
MAX_GROWTH = 20 * 1024 * 1024  # RSS the server may keep beyond an attack
WAIT = 15.0  # bounds every wait on the server, so a broken one fails, not hangs
START_WAIT = 120.0  # a server's start on a machine shared with other test runs
ORIGIN = "https://docs.example.com"

EDGE_ENV = {
    "COWRITE_MAX_DOCUMENT_BYTES": str(MAX_DOCUMENT),
    "COWRITE_WS_AUTH_TIMEOUT_SECONDS": "2",
    "COWRITE_HTTP_HEAD_TIMEOUT_SECONDS": "1",
    "COWRITE_ALLOWED_ORIGINS": ORIGIN,
    "COWRITE_REGISTER_MAX_PER_ADDRESS": "1000",
    "COWRITE_LOG_LEVEL": "info",
}


@pytest.fixture(scope="session", params=TRANSPORTS)
def edge_server(
    request: pytest.FixtureRequest,
    database: TestDatabase,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """One server per database and transport for the run; every test makes its own users."""
    workdir = tmp_path_factory.mktemp(f"edge-{request.param}")
    env = server_env(database, workdir / "data", COWRITE_WS_IMPL=request.param, **EDGE_ENV)
    process = ServerProcess(env=env, workdir=workdir)
    process.start(timeout=START_WAIT)
    try:
        yield process
    finally:
        process.stop()


@dataclass
class Room:
    """A document with an owner, an editor and a viewer."""

    doc: DocCtx
    owner: UserCtx
    editor: UserCtx
    viewer: UserCtx

    @property
    def document_id(self) -> str:
        return str(self.doc.document_id)


@pytest.fixture
async def room(edge_server: ServerProcess, database: TestDatabase) -> Room:
    async with httpx.AsyncClient(base_url=edge_server.base_url, timeout=WAIT) as http:
        owner, editor, viewer = [await make_user(http) for _ in range(3)]
    doc = await make_document(
        database.url,
        {owner.id: "owner", editor.id: "editor", viewer.id: "viewer"},
        content="intact",
    )
    return Room(doc, owner, editor, viewer)


def rss(server: ServerProcess) -> int:
    """The server process's resident memory in bytes."""
    assert server.process is not None
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS for the server")


class Prober:
    """The process that probes `/health` during attacks (probe.py), one for the run."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.edge.probe", str(HEALTH_STALL)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            text=True,
        )

    def tell(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    async def answer(self) -> str:
        """Its next line, read in a thread (the process outlives each test's event loop); one
        that does not come in time ends the process, and the next attack starts another."""
        assert self.process.stdout is not None
        try:
            line = await asyncio.wait_for(asyncio.to_thread(self.process.stdout.readline), WAIT)
        except BaseException:
            self.process.kill()
            self.process.wait()
            raise
        return line.strip()


_probers: list[Prober] = []


def _prober() -> Prober:
    """The run's prober, started on first use (a pytest-xdist worker has its own)."""
    if not _probers or _probers[0].process.poll() is not None:
        _probers[:] = [Prober()]
    return _probers[0]


@contextlib.asynccontextmanager
async def attack(server: ServerProcess, max_growth: int = MAX_GROWTH) -> AsyncIterator[None]:
    """Around an attack: `/health` keeps answering while it runs (probed from a process of its
    own, see probe.py: the median probe within `HEALTH_BOUND`, none stalled for `HEALTH_STALL`),
    and the server's RSS, once the attacker is gone, is within `max_growth` of what it was."""
    before = rss(server)
    prober = _prober()
    prober.tell(str(server.port))
    try:
        assert await prober.answer() == "ready"
        yield
    finally:
        prober.tell("over")
        output = await prober.answer()
    probed = json.loads(output)
    latencies, baseline = sorted(probed["latencies"]), sorted(probed["baseline"])
    median, quiet = statistics.median(latencies), statistics.median(baseline)
    seen = (
        f"/health, {len(latencies)} probes: median {median:.3f} s, worst {latencies[-1]:.3f} s"
        f" (before the attack: median {quiet:.3f} s, worst {baseline[-1]:.3f} s)"
    )
    print(seen)
    # The bounds hold on a quiet machine; on a loaded one, twice what the load alone costs.
    assert median <= max(HEALTH_BOUND, 2 * quiet), seen
    assert latencies[-1] < max(HEALTH_STALL, 2 * baseline[-1]), seen
    growth = rss(server) - before
    assert growth < max_growth, f"RSS grew by {growth / 2**20:.1f} MB"


def yjs_url(server: ServerProcess, document_id: str, token: str | None = None) -> str:
    query = f"?token={token}" if token else ""
    return f"{server.ws_url}/ws/yjs/{document_id}{query}"


async def synced_doc(ws: ClientConnection) -> Doc:
    """Ask for the whole document; a local copy made from the answer."""
    await ws.send(protocol.sync_step1(b"\x00"))
    doc: Doc = Doc()
    doc.get("content", type=Text)
    async with asyncio.timeout(WAIT):
        while True:
            frame = await ws.recv()
            assert isinstance(frame, bytes)
            for message in protocol.parse_frame(frame):
                if isinstance(message, protocol.SyncStep2):
                    doc.apply_update(message.update)
                    return doc


def text_of(doc: Doc) -> str:
    return str(doc.get("content", type=Text))


async def close_code(ws: ClientConnection) -> int | None:
    """Read until the server closes; the code it closed with."""
    try:
        async with asyncio.timeout(WAIT):
            while True:
                await ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def insert_update(doc: Doc, text: str) -> bytes:
    """The update that appends `text` to `doc`'s content."""
    content = doc.get("content", type=Text)
    before = doc.get_state()
    content.insert(len(content), text)
    return doc.get_update(before)


@dataclass
class Bystander:
    ws: ClientConnection
    doc: Doc


@contextlib.asynccontextmanager
async def bystander(server: ServerProcess, room: Room) -> AsyncIterator[Bystander]:
    """An editor in the same room throughout the attack, synced before it starts."""
    url = yjs_url(server, room.document_id, room.editor.access_token)
    async with connect(url, max_size=None) as ws:
        yield Bystander(ws, await synced_doc(ws))


async def room_still_works(server: ServerProcess, room: Room, by: Bystander) -> None:
    """After the attack, the bystander's edit reaches a newcomer in the same room."""
    url = yjs_url(server, room.document_id, room.owner.access_token)
    async with connect(url, max_size=None) as fresh:
        seen = await synced_doc(fresh)
        assert text_of(seen) == text_of(by.doc)
        await by.ws.send(protocol.sync_update(insert_update(by.doc, " still here")))
        async with asyncio.timeout(WAIT):
            while not text_of(seen).endswith(" still here"):
                frame = await fresh.recv()
                assert isinstance(frame, bytes)
                for message in protocol.parse_frame(frame):
                    if isinstance(message, protocol.SyncUpdate):
                        seen.apply_update(message.update)
