"""The co-editing attacks, each against a real server on both transports: the attacker is
closed with the right code (or gets one answer, not a thousand), `/health` keeps answering,
memory comes back, and the others in the room keep editing."""

from __future__ import annotations

import asyncio
import functools
import json

import pytest
from websockets.asyncio.client import ClientConnection, connect

from cowrite.collab import protocol
from tests.edge.conftest import (
    MAX_DOCUMENT,
    ORIGIN,
    WAIT,
    Room,
    attack,
    bystander,
    close_code,
    insert_update,
    room_still_works,
    synced_doc,
    text_of,
    yjs_url,
)
from tests.support.collab import make_document
from tests.support.databases import TestDatabase
from tests.support.server import ServerProcess


def _awareness(client_id: int, state: bytes, clock: int = 1) -> bytes:
    return protocol.awareness_message(
        protocol.encode_awareness([protocol.AwarenessEntry(client_id, clock, state)])
    )


async def _replies_before_marker(ws: ClientConnection, marker: type) -> list[object]:
    """Every message received before the first `marker` message (the answer to a later,
    separate frame, so everything the earlier frame caused came before it)."""
    seen: list[object] = []
    async with asyncio.timeout(WAIT):
        while True:
            frame = await ws.recv()
            assert isinstance(frame, bytes)
            for message in protocol.parse_frame(frame):
                if isinstance(message, marker):
                    return seen
                seen.append(message)


@pytest.mark.serial  # times /health under the attack
async def test_a_huge_awareness_state_closes_1009(edge_server: ServerProcess, room: Room) -> None:
    state = b'{"user":"' + b"x" * (1024 * 1024) + b'"}'
    async with bystander(edge_server, room) as by:
        async with attack(edge_server):
            url = yjs_url(edge_server, room.document_id, room.viewer.access_token)
            async with connect(url, max_size=None) as ws:
                await ws.send(_awareness(7, state))
                await ws.send(bytes([protocol.MESSAGE_QUERY_AWARENESS]) * 1000)
                assert await close_code(ws) == 1009
        await room_still_works(edge_server, room, by)


@pytest.mark.serial  # times /health under the attack
async def test_a_frame_of_awareness_queries_is_answered_once(
    edge_server: ServerProcess, room: Room
) -> None:
    state = b'{"user":"' + b"x" * (60 * 1024) + b'"}'
    async with bystander(edge_server, room) as by:
        async with attack(edge_server):
            url = yjs_url(edge_server, room.document_id, room.viewer.access_token)
            async with connect(url, max_size=None) as ws:
                await ws.send(_awareness(7, state))
                await ws.send(bytes([protocol.MESSAGE_QUERY_AWARENESS]) * 1000)
                await ws.send(protocol.sync_step1(b"\x00"))
                before = await _replies_before_marker(ws, protocol.SyncStep2)
                awareness = [m for m in before if isinstance(m, protocol.AwarenessMessage)]
                # The answer to the query, and perhaps the room's broadcast of its own state.
                assert 1 <= len(awareness) <= 2
        await room_still_works(edge_server, room, by)


@pytest.mark.serial  # times /health under the attack
async def test_a_frame_of_sync_requests_on_a_big_document_is_answered_once(
    edge_server: ServerProcess, database: TestDatabase, room: Room
) -> None:
    big = await make_document(
        database.url,
        {room.viewer.id: "viewer", room.editor.id: "editor", room.owner.id: "owner"},
        content="y" * (MAX_DOCUMENT - 64 * 1024),
    )
    room = Room(big, room.owner, room.editor, room.viewer)
    async with bystander(edge_server, room) as by:
        async with attack(edge_server):
            url = yjs_url(edge_server, room.document_id, room.viewer.access_token)
            async with connect(url, max_size=None) as ws:
                await ws.send(protocol.sync_step1(b"\x00") * 2000)
                await ws.send(bytes([protocol.MESSAGE_QUERY_AWARENESS]))
                before = await _replies_before_marker(ws, protocol.AwarenessMessage)
                answers = [m for m in before if isinstance(m, protocol.SyncStep2)]
                assert len(answers) == 1
        await room_still_works(edge_server, room, by)


@functools.cache
def _a_million_removals() -> bytes:
    """An awareness message that removes a million clients (built once: it takes a second)."""
    count = 1_000_000
    body = [protocol.write_var_uint(count)]
    null = protocol.write_var_bytes(protocol.NULL_STATE)
    body.extend(protocol.write_var_uint(client) + b"\x01" + null for client in range(count))
    return protocol.awareness_message(b"".join(body))


@pytest.mark.serial  # times /health under the attack
async def test_an_awareness_message_with_a_million_removals_closes_1008(
    edge_server: ServerProcess, room: Room
) -> None:
    frame = _a_million_removals()
    async with bystander(edge_server, room) as by:
        async with attack(edge_server):
            url = yjs_url(edge_server, room.document_id, room.viewer.access_token)
            async with connect(url) as ws:
                await ws.send(frame)
                assert await close_code(ws) == 1008
        await room_still_works(edge_server, room, by)


async def test_a_peer_cannot_remove_or_take_over_another_peers_awareness(
    edge_server: ServerProcess, room: Room
) -> None:
    async with bystander(edge_server, room) as by:
        await by.ws.send(_awareness(1, b'{"user":"editor"}'))
        url = yjs_url(edge_server, room.document_id, room.viewer.access_token)
        async with connect(url) as ws:
            await ws.send(_awareness(1, protocol.NULL_STATE, clock=2))
            await ws.send(_awareness(1, b'{"user":"impostor"}', clock=3))
            await ws.send(bytes([protocol.MESSAGE_QUERY_AWARENESS]))
            await ws.send(protocol.sync_step1(b"\x00"))
            before = await _replies_before_marker(ws, protocol.SyncStep2)
        states = [
            entry
            for message in before
            if isinstance(message, protocol.AwarenessMessage)
            for entry in protocol.decode_awareness(message.payload)
            if entry.client_id == 1
        ]
        assert states
        assert all(entry.state == b'{"user":"editor"}' for entry in states)


@pytest.mark.serial  # times /health under the attack
async def test_inserts_past_the_document_limit_are_refused_with_1009(
    edge_server: ServerProcess, room: Room
) -> None:
    chunk = "z" * (MAX_DOCUMENT * 2 // 5)
    async with bystander(edge_server, room) as by:
        async with attack(edge_server):
            url = yjs_url(edge_server, room.document_id, room.editor.access_token)
            async with connect(url, max_size=None) as ws:
                doc = await synced_doc(ws)
                await ws.send(protocol.sync_update(insert_update(doc, chunk)))
                await ws.send(protocol.sync_update(insert_update(doc, chunk)))
                await ws.send(protocol.sync_update(insert_update(doc, chunk)))
                assert await close_code(ws) == 1009
        async with connect(
            yjs_url(edge_server, room.document_id, room.owner.access_token), max_size=None
        ) as ws:
            assert text_of(await synced_doc(ws)) == "intact" + chunk * 2
        by.doc = await synced_doc(by.ws)
        await room_still_works(edge_server, room, by)


@pytest.mark.parametrize("path", ["/ws/yjs/{document}", "/ws"])
async def test_a_foreign_origin_is_refused_on_both_sockets(
    edge_server: ServerProcess, room: Room, path: str
) -> None:
    url = edge_server.ws_url + path.format(document=room.document_id)
    token = f"?token={room.editor.access_token}"
    async with connect(url + token, origin="https://evil.example.net") as ws:  # type: ignore[arg-type]
        assert await close_code(ws) == 4403
    async with connect(url + token, origin=ORIGIN) as ws:  # type: ignore[arg-type]
        if path == "/ws":
            assert "connected" in str(await asyncio.wait_for(ws.recv(), WAIT))
        else:
            assert text_of(await synced_doc(ws)) == "intact"


async def test_the_token_may_come_in_the_first_frame_or_the_subprotocol(
    edge_server: ServerProcess, room: Room
) -> None:
    url = yjs_url(edge_server, room.document_id)
    async with connect(url) as ws:
        await ws.send(json.dumps({"type": "auth", "token": room.editor.access_token}))
        assert text_of(await synced_doc(ws)) == "intact"
    offered = ["cowrite", "cowrite.bearer." + room.editor.access_token]
    async with connect(url, subprotocols=offered) as ws:  # type: ignore[arg-type]
        assert ws.subprotocol == "cowrite"
        assert text_of(await synced_doc(ws)) == "intact"
