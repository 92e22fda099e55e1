"""The HTTP side of the edge, against a real server: registration floods, absurd Range
numbers, tokens kept out of the logs, and the per-process connection cap."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.conftest import TEST_SECRET, server_env
from tests.edge.conftest import START_WAIT, WAIT, Room, attack, synced_doc, text_of, yjs_url
from tests.support.databases import TestDatabase
from tests.support.factories import make_user
from tests.support.files import upload
from tests.support.server import ServerProcess

REGISTRATIONS_ALLOWED = 10


@pytest.fixture
def real_hashing_server(db: TestDatabase, tmp_path: Path) -> Iterator[ServerProcess]:
    """Passwords hashed at the production cost, registrations throttled per address."""
    env = {
        "COWRITE_DATABASE_URL": db.url,
        "COWRITE_DATA_DIR": str(tmp_path / "data"),
        "COWRITE_SECRET_KEY": TEST_SECRET,
        "COWRITE_LOG_LEVEL": "warning",
        "COWRITE_REGISTER_MAX_PER_ADDRESS": str(REGISTRATIONS_ALLOWED),
    }
    process = ServerProcess(env=env, workdir=tmp_path).start(timeout=START_WAIT)
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.serial  # times /health under the attack
async def test_a_registration_flood_is_throttled_and_others_keep_working(
    real_hashing_server: ServerProcess,
) -> None:
    server = real_hashing_server
    async with httpx.AsyncClient(base_url=server.base_url, timeout=WAIT) as http:
        owner = await make_user(http)

        async def register(index: int) -> httpx.Response:
            body = {
                "email": f"flood-{index}-{owner.id.hex[:8]}@example.com",
                "password": "A-long-enough-passphrase-42",
                "full_name": "Flood",
            }
            return await http.post("/api/v1/auth/register", json=body)

        async with attack(server):
            flood = asyncio.gather(*(register(index) for index in range(48)))
            patch = await http.patch(
                "/api/v1/users/me", json={"full_name": "Owner Still Here"}, headers=owner.headers
            )
            answers = await flood
        assert patch.status_code == 200
        assert patch.json()["full_name"] == "Owner Still Here"
    created = [answer for answer in answers if answer.status_code == 201]
    throttled = [answer for answer in answers if answer.status_code == 429]
    # The owner's own registration counted too.
    assert len(created) == REGISTRATIONS_ALLOWED - 1
    assert len(throttled) == 48 - len(created)
    assert all(int(answer.headers["Retry-After"]) > 0 for answer in throttled)
    assert throttled[0].json()["code"] == "register_throttled"


async def test_a_range_with_absurd_numbers_is_416_not_500(
    edge_server: ServerProcess, room: Room
) -> None:
    async with httpx.AsyncClient(base_url=edge_server.base_url, timeout=WAIT) as http:
        uploaded = await upload(http, room.owner, room.doc.workspace_id, b"0123456789")
        assert uploaded.status_code == 201, uploaded.text
        url = f"/api/v1/files/{uploaded.json()['id']}/content"
        for header in (f"bytes={'9' * 5000}-", f"bytes=0-{'9' * 20}", f"bytes=-{'1' * 300}"):
            answer = await http.get(url, headers={**room.owner.headers, "Range": header})
            assert answer.status_code == 416, header
            assert answer.headers["Content-Range"] == "bytes */10"
        answer = await http.get(url, headers={**room.owner.headers, "Range": "bytes=2-4"})
        assert answer.status_code == 206
        assert answer.content == b"234"


async def test_tokens_never_reach_the_logs(edge_server: ServerProcess, room: Room) -> None:
    token = room.viewer.access_token
    async with connect(yjs_url(edge_server, room.document_id, token)) as ws:
        assert text_of(await synced_doc(ws)) == "intact"
    async with connect(f"{edge_server.ws_url}/ws?token={token}") as ws:
        assert "connected" in str(await asyncio.wait_for(ws.recv(), WAIT))
    async with httpx.AsyncClient(base_url=edge_server.base_url, timeout=WAIT) as http:
        assert (await http.get(f"/health?token={token}")).status_code == 200
        # A request after the others: once it is answered, their log lines are written.
        await http.get("/api/v1/users/me", headers=room.viewer.headers)
    logs = edge_server.logs()
    assert '"path":"/health"' in logs  # the requests before the last one were logged
    assert token not in logs
    assert token.split(".")[-1] not in logs
    assert "token=" not in logs


@pytest.fixture
def capped_server(db: TestDatabase, tmp_path: Path) -> Iterator[ServerProcess]:
    env = server_env(db, tmp_path / "data", COWRITE_MAX_CONNECTIONS="4")
    process = ServerProcess(env=env, workdir=tmp_path).start(timeout=START_WAIT)
    try:
        yield process
    finally:
        process.stop()


async def test_connections_past_the_cap_are_refused_503(capped_server: ServerProcess) -> None:
    idle = [await asyncio.open_connection("127.0.0.1", capped_server.port) for _ in range(4)]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", capped_server.port)
        answer = await asyncio.wait_for(reader.read(), WAIT)
        assert answer.startswith(b"HTTP/1.1 503 ")
        writer.close()
    finally:
        for _, idle_writer in idle:
            idle_writer.close()
            with contextlib.suppress(ConnectionError):
                await idle_writer.wait_closed()
    async with httpx.AsyncClient(base_url=capped_server.base_url, timeout=WAIT) as http:
        # The idle ones are gone once the server has seen them close: then it answers again.
        async with asyncio.timeout(WAIT):
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/health")).status_code == 200:
                        break
