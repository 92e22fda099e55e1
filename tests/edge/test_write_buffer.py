"""A client that stops reading while the server keeps writing to it (a whole document, pongs):
the lean transport fails it once its unsent bytes pass the write-buffer cap. Under either
transport the server stops reading it meanwhile (its pings pile up no pongs), memory stays
bounded and the room keeps working. uvicorn's own transport has no cap on what the app sends;
it waits for the buffer to drain, one frame at most."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pycrdt import Doc
from websockets.asyncio.client import ClientConnection, connect

from cowrite.collab import protocol
from tests.conftest import server_env
from tests.edge.conftest import (
    MAX_GROWTH,
    START_WAIT,
    TRANSPORTS,
    WAIT,
    Room,
    attack,
    bystander,
    insert_update,
    synced_doc,
    text_of,
    yjs_url,
)
from tests.leanws.rawclient import OP_BINARY, OP_PING, RawClient, encode_frame
from tests.support.collab import make_document
from tests.support.databases import TestDatabase
from tests.support.factories import make_user
from tests.support.redis import eventually
from tests.support.server import ServerProcess

CAP = 1024 * 1024  # the server's write-buffer cap in this test
CHUNK = 900 * 1024  # each edit, and so each frame a reader gets, stays under the cap
CHUNKS = 5  # the whole document is past the cap and what the kernel holds for a slow reader
REQUESTS = 3  # whole-document requests (and pings) from the client that does not read


@pytest.fixture(params=TRANSPORTS)
def capped_server(
    request: pytest.FixtureRequest, db: TestDatabase, tmp_path: Path
) -> Iterator[ServerProcess]:
    env = server_env(
        db,
        tmp_path / "data",
        COWRITE_WS_IMPL=request.param,
        COWRITE_WS_WRITE_BUFFER_MAX_BYTES=str(CAP),
    )
    process = ServerProcess(env=env, workdir=tmp_path).start(timeout=START_WAIT)
    try:
        yield process
    finally:
        process.stop()


async def _until_text_ends_with(ws: ClientConnection, doc: Doc, tail: str) -> None:
    """Read the room's updates into `doc` until its text ends with `tail`."""
    while not text_of(doc).endswith(tail):
        frame = await ws.recv()
        assert isinstance(frame, bytes)
        for message in protocol.parse_frame(frame):
            if isinstance(message, protocol.SyncUpdate):
                doc.apply_update(message.update)


@pytest.mark.serial  # times /health under the attack
async def test_a_client_that_stops_reading_is_failed_at_the_cap(
    capped_server: ServerProcess, db: TestDatabase
) -> None:
    async with httpx.AsyncClient(base_url=capped_server.base_url, timeout=WAIT) as http:
        owner, editor, viewer = [await make_user(http) for _ in range(3)]
    members = {owner.id: "owner", editor.id: "editor", viewer.id: "viewer"}
    room = Room(await make_document(db.url, members, content="intact"), owner, editor, viewer)
    watcher_url = yjs_url(capped_server, room.document_id, owner.access_token)
    async with bystander(capped_server, room) as by, connect(watcher_url, max_size=None) as ws:
        seen = await synced_doc(ws)
        for index in range(CHUNKS):
            await by.ws.send(protocol.sync_update(insert_update(by.doc, str(index) * CHUNK)))
        await _until_text_ends_with(ws, seen, str(CHUNKS - 1) * CHUNK)
        async with connect(watcher_url, max_size=None) as reader:  # one whole sync, read in full
            assert text_of(await synced_doc(reader)) == text_of(seen)
        # Serving a whole document of this size costs the process memory it keeps (allocator
        # arenas) for any reader; what a client that does not read may not add is more per
        # request it sends.
        async with attack(capped_server, MAX_GROWTH + 8 * CHUNKS * CHUNK):
            path = f"/ws/yjs/{room.document_id}?token={viewer.access_token}"
            client = await RawClient.connect(capped_server.port, path, receive_buffer=4096)
            assert client.status == 101
            for _ in range(REQUESTS):
                client.send(encode_frame(OP_BINARY, protocol.sync_step1(b"\x00")))
                client.send(encode_frame(OP_PING, b"p" * 125))
            if capped_server.env["COWRITE_WS_IMPL"] == "lean":
                await eventually(client.dropped, WAIT)
            await client.aclose()
        await by.ws.send(protocol.sync_update(insert_update(by.doc, " still here")))
        await _until_text_ends_with(ws, seen, " still here")
