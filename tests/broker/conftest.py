from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from cowrite.broker.redis import RedisBroker
from tests.support.redis import RedisServer, redis_server

__all__ = ["redis_server"]

BrokerFactory = Callable[..., RedisBroker]


@pytest.fixture
async def make_broker(redis_server: RedisServer) -> AsyncIterator[BrokerFactory]:
    """Brokers on the test's private Redis, with fast pings and back-off; closed afterwards."""
    made: list[RedisBroker] = []

    def factory(node_id: str, **options: object) -> RedisBroker:
        values: dict[str, object] = {"ping_interval": 0.5, "max_backoff": 0.2, **options}
        broker = RedisBroker(node_id, redis_server.url, **values)  # type: ignore[arg-type]
        made.append(broker)
        return broker

    yield factory
    for broker in made:
        await broker.close()
