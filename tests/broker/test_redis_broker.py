"""RedisBroker over a private redis-server: fan-out, no echo, refcounts, outages, loss hook."""

from __future__ import annotations

import asyncio
import signal

import pytest
from redis.asyncio import Redis

from cowrite.broker.base import MessageHandler
from cowrite.broker.redis import RedisBroker
from tests.broker.conftest import BrokerFactory
from tests.support.redis import RedisServer, eventually

pytestmark = pytest.mark.redis


def collector() -> tuple[asyncio.Queue[bytes], MessageHandler]:
    queue: asyncio.Queue[bytes] = asyncio.Queue()

    async def handler(data: bytes) -> None:
        await queue.put(data)

    return queue, handler


async def next_item(queue: asyncio.Queue[bytes]) -> bytes:
    return await asyncio.wait_for(queue.get(), 5)


async def subscriber_count(server: RedisServer, channel: str) -> int:
    client = Redis.from_url(server.url)
    try:
        counts = await client.pubsub_numsub(f"cowrite:{channel}")
        return int(counts[0][1])
    finally:
        await client.aclose()


async def until_connected(broker: RedisBroker, previous: int) -> None:
    await eventually(lambda: broker.connected and broker.connections > previous)


async def test_publish_reaches_other_processes_but_never_echoes(
    make_broker: BrokerFactory,
) -> None:
    a, b, c = make_broker("a"), make_broker("b"), make_broker("c")
    for broker in (a, b, c):
        await broker.start()
    queues = {}
    for name, broker in (("a", a), ("b", b), ("c", c)):
        queue, handler = collector()
        queues[name] = queue
        await broker.subscribe("yjs:doc", handler)

    assert await a.try_publish("yjs:doc", b"from a")
    assert await next_item(queues["b"]) == b"from a"
    assert await next_item(queues["c"]) == b"from a"
    assert await b.try_publish("yjs:doc", b"from b")
    # a's own message was skipped: the first thing a receives is b's.
    assert await next_item(queues["a"]) == b"from b"
    assert await next_item(queues["c"]) == b"from b"
    assert queues["b"].empty()


async def test_messages_published_without_waiting_all_arrive_in_order(
    make_broker: BrokerFactory,
) -> None:
    a, b = make_broker("a"), make_broker("b")
    for broker in (a, b):
        await broker.start()
    queue, handler = collector()
    await b.subscribe("yjs:doc", handler)
    own, own_handler = collector()
    await a.subscribe("yjs:doc", own_handler)

    for index in range(500):  # queued in one go: they leave in a few pipelined round trips
        a.publish_soon("yjs:doc", str(index).encode())
    received = [await next_item(queue) for _ in range(500)]
    assert received == [str(index).encode() for index in range(500)]
    a.publish_soon("yjs:doc", b"later")
    assert await next_item(queue) == b"later"
    assert own.empty()  # never echoed to the publisher


async def test_channels_are_refcounted_and_only_hosted_rooms_are_subscribed(
    make_broker: BrokerFactory, redis_server: RedisServer
) -> None:
    publisher, host = make_broker("publisher"), make_broker("host")
    await publisher.start()
    await host.start()
    first_queue, first = collector()
    second_queue, second = collector()
    await host.subscribe("presence:room", first)
    await host.subscribe("presence:room", second)
    assert await subscriber_count(redis_server, "presence:room") == 1  # one connection
    assert await subscriber_count(redis_server, "presence:other") == 0

    await host.unsubscribe("presence:room", first)
    await publisher.publish("presence:room", b"still here")
    assert await next_item(second_queue) == b"still here"
    assert first_queue.empty()

    await host.unsubscribe("presence:room", second)
    assert await subscriber_count(redis_server, "presence:room") == 0


async def test_quick_unsubscribe_and_subscribe_ends_subscribed(
    make_broker: BrokerFactory, redis_server: RedisServer
) -> None:
    publisher, host = make_broker("publisher"), make_broker("host")
    await publisher.start()
    await host.start()
    queue, handler = collector()
    await host.subscribe("yjs:flap", handler)
    await asyncio.gather(
        host.unsubscribe("yjs:flap", handler),
        host.subscribe("yjs:flap", handler),
    )
    assert await subscriber_count(redis_server, "yjs:flap") == 1
    await publisher.publish("yjs:flap", b"delivered")
    assert await next_item(queue) == b"delivered"


async def test_outage_reconnects_resubscribes_and_runs_hooks(
    make_broker: BrokerFactory, redis_server: RedisServer
) -> None:
    publisher, host = make_broker("publisher"), make_broker("host")
    await publisher.start()
    await host.start()
    queue, handler = collector()
    await host.subscribe("yjs:doc", handler)
    repaired = asyncio.Event()

    async def repair() -> None:
        repaired.set()

    host.add_reconnect_hook(repair)
    connections = host.connections

    redis_server.stop()
    await eventually(lambda: not host.connected and not publisher.connected)
    assert not await host.ping()
    assert not await publisher.try_publish("yjs:doc", b"lost while down")

    redis_server.start()
    await until_connected(host, connections)
    await until_connected(publisher, 1)
    await asyncio.wait_for(repaired.wait(), 5)
    assert await host.ping()
    assert await publisher.try_publish("yjs:doc", b"after the outage")
    assert await next_item(queue) == b"after the outage"


async def test_a_redis_that_goes_silent_is_noticed_and_reconnected(
    make_broker: BrokerFactory, redis_server: RedisServer
) -> None:
    host = make_broker("host")
    await host.start()
    queue, handler = collector()
    await host.subscribe("yjs:doc", handler)
    connections = host.connections
    assert redis_server.process is not None
    redis_server.process.send_signal(signal.SIGSTOP)  # no reset, no answer: a dead link
    try:
        await eventually(lambda: not host.connected, within=5)
    finally:
        redis_server.process.send_signal(signal.SIGCONT)
    await until_connected(host, connections)
    publisher = make_broker("publisher")
    await publisher.start()
    assert await publisher.try_publish("yjs:doc", b"after the silence")
    assert await next_item(queue) == b"after the silence"


async def test_start_while_redis_is_down_does_not_fail_and_connects_later(
    make_broker: BrokerFactory, redis_server: RedisServer
) -> None:
    redis_server.stop()
    late = make_broker("late")
    await late.start(wait=0.2)
    queue, handler = collector()
    await late.subscribe("events", handler)
    assert not late.connected

    redis_server.start()
    await until_connected(late, 0)
    other = make_broker("other")
    await other.start()
    assert await other.try_publish("events", b"hello late")
    assert await next_item(queue) == b"hello late"


async def test_drop_rate_hook_loses_incoming_messages(make_broker: BrokerFactory) -> None:
    publisher, lossy = make_broker("publisher"), make_broker("lossy", drop_rate=1.0)
    await publisher.start()
    await lossy.start()
    queue, handler = collector()
    await lossy.subscribe("yjs:doc", handler)

    for index in range(20):
        assert await publisher.try_publish("yjs:doc", str(index).encode())
    # A subscription is confirmed on the same connection after those 20 messages: once it
    # returns, the reader has seen (and dropped) all of them.
    _, barrier = collector()
    await lossy.subscribe("barrier", barrier)
    lossy.drop_rate = 0.0
    await publisher.publish("yjs:doc", b"after the loss")
    # Messages on one connection arrive in order: the 20 before were all dropped.
    assert await next_item(queue) == b"after the loss"
