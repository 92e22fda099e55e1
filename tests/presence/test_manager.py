"""The connection manager and outboxes over fake sockets: fan-out, coalescing, slow readers."""

from __future__ import annotations

import asyncio
import uuid

import orjson
import pytest

from cowrite.broker.memory import MemoryBroker, MemoryBus
from cowrite.presence.connection import Connection
from cowrite.presence.manager import ConnectionManager
from cowrite.presence.protocol import ProtocolError, parse_frame
from cowrite.presence.store import MemoryPresenceStore, PresenceEntry

DOC = uuid.uuid4()
WORKSPACE = uuid.uuid4()
TICK = 0.005


class FakeSocket:
    """Records what is sent; `gate` cleared = a reader that stopped reading."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed_with: int | None = None
        self.gate = asyncio.Event()
        self.gate.set()
        self.arrived = asyncio.Event()

    async def send_text(self, data: str) -> None:
        await self.gate.wait()
        self.sent.append(data)
        self.arrived.set()

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed_with = code

    def events(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for frame in self.sent:
            message = orjson.loads(frame)
            out.extend(message["events"] if message["type"] == "batch" else [message])
        return out


def _connection(queue_bytes: int = 64 * 1024) -> tuple[Connection, FakeSocket]:
    socket = FakeSocket()
    connection = Connection(
        socket,
        connection_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        login_id=uuid.uuid4(),
        full_name="Fake Person",
        device_type="web",
        queue_bytes=queue_bytes,
    )
    return connection, socket


def _entry(connection: Connection) -> PresenceEntry:
    return PresenceEntry(
        connection_id=connection.id,
        user_id=connection.user_id,
        full_name=connection.full_name,
        session_id=connection.login_id,
        device_type="web",
        document_id=DOC,
    )


def _move(connection: Connection, column: int) -> dict[str, object]:
    return {
        "type": "cursor_move",
        "document_id": str(DOC),
        "user_id": str(connection.user_id),
        "connection_id": str(connection.id),
        "cursor": {"line": 0, "column": column},
    }


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(TICK * 2)


@pytest.fixture
async def manager() -> ConnectionManager:
    broker = MemoryBroker("node-a")
    await broker.start()
    return ConnectionManager(
        MemoryPresenceStore(), broker, process_id="node-a", flush_interval=TICK
    )


async def _joined(
    manager: ConnectionManager, count: int, **kwargs: int
) -> list[tuple[Connection, FakeSocket]]:
    pairs = [_connection(**kwargs) for _ in range(count)]
    for connection, _ in pairs:
        manager.register(connection)
        await manager.join(connection, _entry(connection), WORKSPACE)
    await _settle()
    for _, socket in pairs:
        socket.sent.clear()
    return pairs


async def test_events_are_encoded_once_and_skip_their_sender(manager: ConnectionManager) -> None:
    (mover, mover_socket), *others = await _joined(manager, 4)
    manager.queue(DOC, mover.id, "cursor_move", _move(mover, 5))
    await _settle()
    frames = [socket.sent for _, socket in others]
    assert all(len(f) == 1 for f in frames)
    # The very same string object went to every recipient.
    assert len({id(f[0]) for f in frames}) == 1
    assert mover_socket.sent == []


async def test_a_tick_keeps_only_the_latest_cursor(manager: ConnectionManager) -> None:
    (mover, _), (_, reader) = await _joined(manager, 2)
    for column in range(10):
        manager.queue(DOC, mover.id, "cursor_move", _move(mover, column))
    await _settle()
    assert [e["cursor"] for e in reader.events()] == [{"line": 0, "column": 9}]


async def test_slow_reader_skips_positions_but_never_joins_and_leaves(
    manager: ConnectionManager,
) -> None:
    (mover, _), (slow, slow_socket), (_, fast_socket) = await _joined(manager, 3)
    slow_socket.gate.clear()  # stops reading
    for column in range(30):
        manager.queue(DOC, mover.id, "cursor_move", _move(mover, column))
        await asyncio.sleep(TICK * 1.5)
    late, _ = _connection()
    manager.register(late)
    await manager.join(late, _entry(late), WORKSPACE)
    await _settle()
    await manager.leave(late, DOC)
    await _settle()
    # The fast reader saw many positions; the room did not wait for the slow one.
    assert len([e for e in fast_socket.events() if e["type"] == "cursor_move"]) > 5
    slow_socket.gate.set()
    await _settle()
    kinds = [e["type"] for e in slow_socket.events()]
    moves = [e for e in slow_socket.events() if e["type"] == "cursor_move"]
    assert "user_joined" in kinds and "user_left" in kinds
    assert kinds.index("user_joined") < kinds.index("user_left")
    assert moves[-1]["cursor"] == {"line": 0, "column": 29}
    assert len(moves) < 30
    assert not slow.closed


async def test_a_reader_far_behind_is_closed_and_the_room_goes_on(
    manager: ConnectionManager,
) -> None:
    (_, _), (slow, slow_socket), (_, fast_socket) = await _joined(manager, 3, queue_bytes=1024)
    slow_socket.gate.clear()
    for _ in range(12):  # joins and leaves must all arrive, so they pile up
        guest, _ = _connection()
        manager.register(guest)
        await manager.join(guest, _entry(guest), WORKSPACE)
        await manager.leave(guest, DOC)
        await asyncio.sleep(TICK * 1.5)
    await _settle()
    assert slow.closed
    slow_socket.gate.set()
    await _settle()
    assert slow_socket.closed_with == 1008
    joined = [e for e in fast_socket.events() if e["type"] == "user_joined"]
    assert len(joined) == 12


async def test_a_reader_whose_socket_failed_is_dropped_and_the_room_goes_on(
    manager: ConnectionManager,
) -> None:
    (mover, _), (gone, gone_socket), (_, reader) = await _joined(manager, 3)

    async def broken(data: str) -> None:
        raise ConnectionResetError("peer went away")

    gone_socket.send_text = broken  # type: ignore[method-assign]  # the peer vanished mid-send
    for column in range(3):
        manager.queue(DOC, mover.id, "cursor_move", _move(mover, column))
        await _settle()
    assert gone.closed
    assert [e["cursor"]["column"] for e in reader.events()] == [0, 1, 2]  # type: ignore[index]


async def test_replies_and_events_keep_their_order_when_a_send_suspends(
    manager: ConnectionManager,
) -> None:
    (mover, _), (reader, reader_socket) = await _joined(manager, 2)
    reader_socket.gate.clear()  # the first send below suspends; the rest queue behind it
    manager.send(reader.id, '{"type":"first"}')
    manager.queue(DOC, mover.id, "cursor_move", _move(mover, 1))
    await _settle()
    manager.send(reader.id, '{"type":"last"}')
    reader_socket.gate.set()
    await _settle()
    assert [e["type"] for e in reader_socket.events()] == ["first", "cursor_move", "last"]


async def test_user_helpers_and_direct_sends(manager: ConnectionManager) -> None:
    (first, first_socket), (second, _) = await _joined(manager, 2)
    phone, phone_socket = _connection()
    phone.user_id = first.user_id
    manager.register(phone)
    assert manager.is_online(first.user_id)
    assert manager.send_to_user(first.user_id, '{"type":"notice"}') == 2
    assert manager.send(second.id, '{"type":"direct"}')
    assert not manager.send(uuid.uuid4(), '{"type":"nobody"}')
    await _settle()
    assert first_socket.sent == ['{"type":"notice"}'] and phone_socket.sent == ['{"type":"notice"}']
    users = await manager.room_users(DOC)
    assert {u.connection_id for u in users} == {first.id, second.id}
    manager.unregister(phone)
    manager.unregister(first)
    assert not manager.is_online(first.user_id)


async def test_batch_readers_get_one_frame_per_tick(manager: ConnectionManager) -> None:
    (a, _), (b, _), (reader, reader_socket) = await _joined(manager, 3)
    reader.batch = True
    manager.queue(DOC, a.id, "cursor_move", _move(a, 1))
    manager.queue(DOC, b.id, "cursor_move", _move(b, 2))
    await _settle()
    assert len(reader_socket.sent) == 1
    frame = orjson.loads(reader_socket.sent[0])
    assert frame["type"] == "batch"
    assert [e["connection_id"] for e in frame["events"]] == [str(a.id), str(b.id)]


async def test_a_batch_reader_that_moved_too_gets_its_peers_events_only(
    manager: ConnectionManager,
) -> None:
    (a, a_socket), (b, b_socket) = await _joined(manager, 2)
    a.batch = b.batch = True
    manager.queue(DOC, a.id, "cursor_move", _move(a, 1))
    manager.queue(DOC, a.id, "user_left", {"type": "user_left", "connection_id": str(a.id)})
    manager.queue(DOC, a.id, "cursor_move", _move(a, 2))
    manager.queue(DOC, b.id, "cursor_move", _move(b, 3))
    await _settle()
    # One frame each, in the tick's order, without the reader's own events.
    assert len(a_socket.sent) == len(b_socket.sent) == 1
    assert [e["cursor"] for e in a_socket.events()] == [{"line": 0, "column": 3}]
    assert [(e["type"], e.get("cursor")) for e in b_socket.events()] == [
        ("cursor_move", {"line": 0, "column": 1}),
        ("user_left", None),
        ("cursor_move", {"line": 0, "column": 2}),
    ]
    # A tick of nothing but its own events sends it nothing.
    manager.queue(DOC, a.id, "cursor_move", _move(a, 4))
    await _settle()
    assert len(a_socket.sent) == 1
    assert b_socket.events()[-1]["cursor"] == {"line": 0, "column": 4}


async def test_rooms_on_two_nodes_hear_each_other() -> None:
    bus = MemoryBus()
    brokers = [MemoryBroker("a", bus), MemoryBroker("b", bus)]
    for broker in brokers:
        await broker.start()
    managers = [
        ConnectionManager(
            MemoryPresenceStore(), broker, process_id=broker.node_id, flush_interval=TICK
        )
        for broker in brokers
    ]
    ((here, _),) = await _joined(managers[0], 1)
    ((_, there_socket),) = await _joined(managers[1], 1)
    managers[0].queue(DOC, here.id, "cursor_move", _move(here, 7))
    await _settle()
    assert [e["cursor"] for e in there_socket.events()] == [{"line": 0, "column": 7}]
    await managers[1].leave(
        managers[1].rooms[DOC].members[next(iter(managers[1].rooms[DOC].members))], DOC
    )
    await managers[1].close_room_if_empty(DOC)
    assert DOC not in managers[1].rooms


async def test_events_from_another_node_join_the_local_tick_coalesced() -> None:
    """A remote connection's moves are folded into this node's tick: one frame carries them
    with the local events, and only the latest position of each connection."""
    bus = MemoryBus()
    brokers = [MemoryBroker("a", bus), MemoryBroker("b", bus)]
    for broker in brokers:
        await broker.start()
    there_manager, here_manager = (
        ConnectionManager(
            MemoryPresenceStore(), broker, process_id=broker.node_id, flush_interval=interval
        )
        for broker, interval in zip(brokers, [TICK, 0.1], strict=True)
    )
    ((remote, _),) = await _joined(there_manager, 1)
    (local, _), (reader, reader_socket) = await _joined(here_manager, 2)
    reader.batch = True
    await asyncio.sleep(0.25)  # the join ticks are out on both nodes
    reader_socket.sent.clear()

    for column in (1, 2, 3):
        there_manager.queue(DOC, remote.id, "cursor_move", _move(remote, column))
    here_manager.queue(DOC, local.id, "cursor_move", _move(local, 9))
    await asyncio.sleep(0.25)
    assert len(reader_socket.sent) == 1
    frame = orjson.loads(reader_socket.sent[0])
    assert frame["type"] == "batch"
    moves = [(e["connection_id"], e["cursor"]["column"]) for e in frame["events"]]
    assert sorted(moves) == sorted([(str(local.id), 9), (str(remote.id), 3)])


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{", "invalid_json"),
        ("null", "invalid_message"),
        ('{"type": 3}', "invalid_message"),
        ('{"type": "heartbeat", "id": true}', "invalid_message"),
        ('{"type": "heartbeat", "id": "' + "x" * 65 + '"}', "invalid_message"),
        ('{"type": "auth", "token": ""}', "invalid_message"),
        ('{"type": "leave_document"}', "invalid_message"),
        ('{"type": "teleport"}', "unknown_type"),
    ],
)
def test_parser_refuses(frame: str, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_frame(frame)
    assert caught.value.code == code


def test_parser_accepts_the_contract_messages() -> None:
    def frame(body: dict[str, object]) -> str:
        return orjson.dumps({**body, "document_id": str(DOC)}).decode()

    selection = {"start": {"line": 1, "column": 2}, "end": {"line": 3, "column": 4}}
    message = parse_frame(frame({"type": "selection_change", "id": 7, "selection": selection}))
    assert message.ref == 7 and message.document_id == DOC
    assert message.selection == selection
    cleared = parse_frame(frame({"type": "selection_change", "selection": None}))
    assert cleared.selection is None
    assert parse_frame(frame({"type": "typing"})).is_typing is True
    assert parse_frame('{"type":"hello","batch":true}').batch is True
    assert parse_frame('{"type":"heartbeat"}').type == "heartbeat"
