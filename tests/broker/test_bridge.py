"""The event bridge: domain events reach every process once, with no loops and no loss."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from cowrite.broker.bridge import EventBridge, decode_event, encode_event
from cowrite.broker.memory import MemoryBroker, MemoryBus
from cowrite.broker.redis import RedisEventJournal
from cowrite.kit.events import (
    DocumentTrashed,
    EventHub,
    LoginsRevoked,
    MembershipChanged,
    WorkspaceDeleted,
)
from tests.broker.conftest import BrokerFactory
from tests.support.redis import RedisServer, eventually

EVENTS = [
    MembershipChanged(workspace_id=uuid.uuid4(), user_id=uuid.uuid4(), role="editor"),
    MembershipChanged(workspace_id=uuid.uuid4(), user_id=uuid.uuid4(), role=None),
    WorkspaceDeleted(workspace_id=uuid.uuid4()),
    LoginsRevoked(user_id=uuid.uuid4(), login_ids=(uuid.uuid4(), uuid.uuid4())),
    DocumentTrashed(document_id=uuid.uuid4(), workspace_id=uuid.uuid4()),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda event: type(event).__name__)
def test_events_survive_the_wire(event: object) -> None:
    assert decode_event(encode_event(event)) == event


def recorder(hub: EventHub) -> list[object]:
    seen: list[object] = []
    for cls in {type(event) for event in EVENTS}:
        hub.subscribe(cls, seen.append)
    return seen


async def test_each_process_sees_each_event_once() -> None:
    bus = MemoryBus()
    hubs = [EventHub() for _ in range(3)]
    seen = [recorder(hub) for hub in hubs]
    for index, hub in enumerate(hubs):
        broker = MemoryBroker(f"node-{index}", bus)
        await broker.start()
        await EventBridge(hub, broker).start()

    for event in EVENTS:
        await hubs[0].emit(event)
    await hubs[2].emit(EVENTS[0])

    expected = [*EVENTS, EVENTS[0]]
    assert seen[0] == expected
    assert seen[1] == expected
    assert seen[2] == expected


class FlakyBroker(MemoryBroker):
    """A memory broker that can be taken down; coming back runs the reconnect hooks."""

    def __init__(self, node_id: str, bus: MemoryBus) -> None:
        super().__init__(node_id, bus)
        self.down = False

    async def try_publish(self, channel: str, data: bytes) -> bool:
        if self.down:
            return False
        return await super().try_publish(channel, data)

    async def come_back(self) -> None:
        self.down = False
        for hook in list(self._reconnect_hooks):
            await hook()


async def test_events_sent_during_an_outage_arrive_after_it_in_order() -> None:
    bus = MemoryBus()
    sender_hub, receiver_hub = EventHub(), EventHub()
    received = recorder(receiver_hub)
    sender, receiver = FlakyBroker("sender", bus), MemoryBroker("receiver", bus)
    await sender.start()
    await receiver.start()
    bridge = EventBridge(sender_hub, sender)
    await bridge.start()
    await EventBridge(receiver_hub, receiver).start()

    sender.down = True
    await sender_hub.emit(EVENTS[3])  # a revocation while the broker is away
    await sender_hub.emit(EVENTS[2])
    assert bridge.pending == 2
    assert received == []

    await sender.come_back()
    assert received == [EVENTS[3], EVENTS[2]]
    assert bridge.pending == 0
    await sender_hub.emit(EVENTS[4])
    assert received == [EVENTS[3], EVENTS[2], EVENTS[4]]


@pytest.mark.redis
async def test_events_cross_processes_over_redis(make_broker: BrokerFactory) -> None:
    hubs = [EventHub(), EventHub()]
    seen = [recorder(hub) for hub in hubs]
    for index, hub in enumerate(hubs):
        broker = make_broker(f"node-{index}")
        await broker.start()
        await EventBridge(hub, broker).start()

    await hubs[0].emit(EVENTS[3])
    await eventually(lambda: len(seen[1]) == 1)
    await hubs[1].emit(EVENTS[0])
    await eventually(lambda: len(seen[0]) == 2)
    assert seen[0] == seen[1] == [EVENTS[3], EVENTS[0]]


@pytest.mark.redis
async def test_a_process_cut_off_from_redis_catches_up_once(
    make_broker: BrokerFactory, redis_server: RedisServer
) -> None:
    hubs = [EventHub(), EventHub()]
    seen = [recorder(hub) for hub in hubs]
    brokers = [make_broker("sender"), make_broker("receiver")]
    for hub, broker in zip(hubs, brokers, strict=True):
        await broker.start()
        journal = RedisEventJournal(broker.redis, "cowrite:events")
        await EventBridge(hub, broker, journal=journal).start()
    receiver = brokers[1]
    connections = receiver.connections

    admin = Redis.from_url(redis_server.url)
    try:
        await admin.client_kill_filter(_type="pubsub")  # every subscriber connection drops
    finally:
        await admin.aclose()
    await hubs[0].emit(EVENTS[3])  # published while nobody listens
    await eventually(lambda: receiver.connected and receiver.connections > connections)
    await eventually(lambda: len(seen[1]) == 1)
    await hubs[0].emit(EVENTS[4])
    await eventually(lambda: len(seen[1]) == 2)
    assert seen[1] == [EVENTS[3], EVENTS[4]]
    assert seen[0] == [EVENTS[3], EVENTS[4]]
