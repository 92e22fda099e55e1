"""The shared send loop under a Yjs peer: in place while the socket takes frames, one merged
catch-up for a reader that fell behind, a close for one too far behind."""

from __future__ import annotations

import asyncio
import uuid

from pycrdt import Doc, Text

from cowrite.collab import protocol
from cowrite.collab.connection import SocketPeer
from cowrite.collab.protocol import SyncStep2, SyncUpdate, parse_frame
from cowrite.realtime.codes import CloseCode
from cowrite.realtime.outbox import Frame


class GatedSocket:
    """Records what is sent; `gate` cleared = a reader that stopped reading."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed_with: int | None = None
        self.gate = asyncio.Event()
        self.gate.set()

    async def send_bytes(self, data: bytes) -> None:
        await self.gate.wait()
        self.sent.append(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed_with = code

    def updates(self) -> list[bytes]:
        return [
            message.update
            for frame in self.sent
            for message in parse_frame(frame)
            if isinstance(message, SyncUpdate | SyncStep2)
        ]


def _peer(socket: GatedSocket, queue_bytes: int = 1 << 20) -> tuple[SocketPeer, list[int]]:
    catch_ups: list[int] = []
    peer = SocketPeer(
        socket.send_bytes,
        socket.close,
        connection_id=uuid.uuid4(),
        user_id=None,
        login_id=None,
        can_write=False,
        queue_bytes=queue_bytes,
        on_catch_up=lambda: catch_ups.append(1),
    )
    return peer, catch_ups


def _updates(count: int) -> list[bytes]:
    doc: Doc = Doc()
    text = doc.get("content", type=Text)
    out = []
    for index in range(count):
        before = doc.get_state()
        text.insert(len(text), f"<{index}>")
        out.append(doc.get_update(before))
    return out


def _text(updates: list[bytes]) -> str:
    doc: Doc = Doc()
    for update in updates:
        doc.apply_update(update)
    return str(doc.get("content", type=Text))


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_reader_that_keeps_up_gets_each_batch_once_as_it_comes() -> None:
    socket = GatedSocket()
    peer, catch_ups = _peer(socket)
    updates = _updates(5)
    for update in updates:
        peer.send_frame(Frame(protocol.sync_update(update)), update)
    assert socket.updates() == updates  # sent in place, no task or loop turn needed
    assert catch_ups == []


async def test_a_reader_that_fell_behind_gets_one_merged_catch_up_and_no_duplicate() -> None:
    socket = GatedSocket()
    peer, catch_ups = _peer(socket)
    updates = _updates(50)
    socket.gate.clear()  # the first send suspends; the rest wait with the peer
    for update in updates:
        peer.send_frame(Frame(protocol.sync_update(update)), update)
    assert socket.sent == []
    socket.gate.set()
    await _settle()
    received = socket.updates()
    assert len(received) == 2  # the one in flight, then everything after it merged
    assert _text(received) == _text(updates)
    assert catch_ups == [1]
    assert not peer.closing
    # Caught up: the next batch goes out in place again.
    more = _updates(51)[-1]
    peer.send_frame(Frame(protocol.sync_update(more)), more)
    assert len(socket.updates()) == 3


async def test_a_reader_further_behind_than_the_byte_cap_is_closed_as_slow() -> None:
    socket = GatedSocket()
    peer, _ = _peer(socket, queue_bytes=200)
    socket.gate.clear()
    for update in _updates(40):
        peer.send_frame(Frame(protocol.sync_update(update)), update)
    assert peer.closing and peer.close_code == CloseCode.SLOW_READER
    socket.gate.set()
    await _settle()
    assert socket.closed_with == 1008
    assert peer.finished


async def test_replies_wait_behind_a_suspended_send_in_order() -> None:
    socket = GatedSocket()
    peer, _ = _peer(socket)
    socket.gate.clear()
    for payload in (b"\x00first", b"\x00second", b"\x00third"):
        peer.send(payload)
    socket.gate.set()
    await _settle()
    assert socket.sent == [b"\x00first", b"\x00second", b"\x00third"]
