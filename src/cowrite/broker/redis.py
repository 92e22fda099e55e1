"""Redis broker: pub/sub between processes over one subscriber connection per process.

Every message carries an 8-byte tag of its sender so a process skips its own messages (Redis
echoes a publish to every subscriber, the publisher included). Channels are reference counted:
the first local handler subscribes in Redis, the last one to leave unsubscribes. When the
connection drops, the reader reconnects with jittered exponential back-off, subscribes again to
every channel that still has handlers and then runs the reconnect hooks, because whatever was
published meanwhile is gone for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import inspect
import logging
import random
import time
from collections.abc import Sequence
from typing import Any

from redis.asyncio import ConnectionPool, Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from cowrite.broker.base import MessageHandler, ReconnectHook
from cowrite.kit.tasks import raise_if_cancelling

log = logging.getLogger(__name__)

TAG_BYTES = 8
# Failures a Redis client may raise while the server is away.
REDIS_ERRORS = (RedisError, OSError, TimeoutError)


def redis_client(url: str, *, connect_timeout: float = 1.0, command_timeout: float = 2.0) -> Redis:
    """A command client that fails fast while Redis is down instead of stalling its callers."""
    return Redis.from_url(
        url,
        socket_connect_timeout=connect_timeout,
        socket_timeout=command_timeout,
        retry=Retry(NoBackoff(), 1),  # one immediate retry covers a pooled socket Redis closed
    )


class RedisBroker:
    def __init__(
        self,
        node_id: str,
        url: str,
        *,
        client: Redis | None = None,
        prefix: str = "cowrite:",
        drop_rate: float = 0.0,
        ping_interval: float = 2.0,
        max_backoff: float = 5.0,
        connect_timeout: float = 1.0,
    ) -> None:
        self.node_id = node_id
        self.redis = client or redis_client(url, connect_timeout=connect_timeout)
        self._pool = ConnectionPool.from_url(
            url,
            socket_connect_timeout=connect_timeout,
            socket_timeout=None,  # the reader blocks until a message; liveness comes from PING
            retry=Retry(NoBackoff(), 0),
        )
        self._prefix = prefix
        self._prefix_bytes = prefix.encode()
        self._tag = hashlib.blake2b(node_id.encode(), digest_size=TAG_BYTES).digest()
        self.drop_rate = drop_rate
        self._random = random.Random()
        self._ping_interval = ping_interval
        self._max_backoff = max_backoff
        self._handlers: dict[str, list[MessageHandler]] = {}
        self._active: set[str] = set()  # channels subscribed on the current connection
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._hooks: list[ReconnectHook] = []
        self._hook_tasks: set[asyncio.Task[None]] = set()
        self._conn: AbstractConnection | None = None
        self._send_lock = asyncio.Lock()
        # publish_soon's queue, drained by one sender task in pipelines (while one round trip
        # is out, the next messages gather for the following one).
        self._outbox: list[tuple[str, bytes]] = []
        self._sender: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._warned_at = 0.0
        self.connections = 0  # how many times the subscriber connected (tests and logs)

    @property
    def has_peers(self) -> bool:
        return True  # other processes come and go unseen: always publish

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def start(self, wait: float = 2.0) -> None:
        """Start the reader; wait briefly for Redis, but never fail when it is away."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="redis-broker")
        try:
            async with asyncio.timeout(wait):
                await self._connected.wait()
        except TimeoutError:
            log.warning("redis is not reachable yet; the broker keeps retrying in the background")

    async def flush(self) -> None:
        if self._sender is not None:
            await asyncio.shield(self._sender)

    async def close(self) -> None:
        if self._sender is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.flush(), 1.0)
        tasks = [*self._hook_tasks]
        if self._task is not None:
            tasks.append(self._task)
            self._task = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._drop_connection()
        self._handlers.clear()
        await self._pool.disconnect()
        await self.redis.aclose()

    # --- publishing -------------------------------------------------------------------------

    async def publish(self, channel: str, data: bytes) -> None:
        await self.try_publish(channel, data)

    async def try_publish(self, channel: str, data: bytes) -> bool:
        if not self._connected.is_set():
            return False
        try:
            await self.redis.publish(self._prefix + channel, self._tag + data)
        except REDIS_ERRORS as exc:
            self._warn("redis publish failed", exc)
            return False
        return True

    def publish_soon(self, channel: str, data: bytes) -> None:
        if not self._connected.is_set():
            return  # lost, as pub/sub loses it; the subscribers repair on reconnect
        self._outbox.append((self._prefix + channel, self._tag + data))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_outbox(), name="redis-publish")

    async def _send_outbox(self) -> None:
        try:
            while self._outbox:
                batch, self._outbox = self._outbox, []
                try:
                    if len(batch) == 1:
                        await self.redis.publish(*batch[0])
                        continue
                    async with self.redis.pipeline(transaction=False) as pipe:
                        for key, payload in batch:
                            pipe.publish(key, payload)
                        await pipe.execute()
                except REDIS_ERRORS as exc:
                    self._warn("redis publish failed", exc)
        finally:
            self._sender = None

    async def ping(self) -> bool:
        if not self._connected.is_set():
            return False
        try:
            return bool(await self.redis.ping())
        except REDIS_ERRORS:
            return False

    # --- subscriptions ----------------------------------------------------------------------

    async def subscribe(self, channel: str, handler: MessageHandler) -> None:
        """Add a handler; returns once Redis confirmed the subscription (or soon after)."""
        self._handlers.setdefault(channel, []).append(handler)
        waiter = await self._sync_channel(channel)
        if waiter is not None:
            try:
                async with asyncio.timeout(1.0):
                    await waiter
            except TimeoutError:
                pass  # the connection is struggling; the reconnect path subscribes again

    async def unsubscribe(self, channel: str, handler: MessageHandler) -> None:
        handlers = self._handlers.get(channel)
        if handlers and handler in handlers:
            handlers.remove(handler)
            if not handlers:
                del self._handlers[channel]
                await self._sync_channel(channel)

    async def _sync_channel(self, channel: str) -> asyncio.Future[None] | None:
        """Bring the Redis subscription of one channel in line with its local handlers.

        Deciding under the lock from the current state (not from the caller's intent) keeps a
        quick unsubscribe/subscribe pair from ending unsubscribed.
        """
        async with self._send_lock:
            conn = self._conn
            wanted = channel in self._handlers
            if conn is None or wanted == (channel in self._active):
                return None
            key = self._prefix + channel
            try:
                if wanted:
                    waiter = asyncio.get_running_loop().create_future()
                    self._waiters.setdefault(key, []).append(waiter)
                    await conn.send_command("SUBSCRIBE", key)
                    self._active.add(channel)
                    return waiter
                await conn.send_command("UNSUBSCRIBE", key)
                self._active.discard(channel)
            except REDIS_ERRORS as exc:
                # The reader notices the broken connection and resubscribes from _handlers.
                self._warn("redis (un)subscribe failed", exc)
            return None

    def add_reconnect_hook(self, hook: ReconnectHook) -> None:
        self._hooks.append(hook)

    def remove_reconnect_hook(self, hook: ReconnectHook) -> None:
        if hook in self._hooks:
            self._hooks.remove(hook)

    # --- the reader -------------------------------------------------------------------------

    async def _run(self) -> None:
        backoff = 0.05
        while True:
            try:
                conn = await self._connect()
                backoff = 0.05
                await self._read(conn)
            except asyncio.CancelledError:
                raise
            except REDIS_ERRORS as exc:
                raise_if_cancelling()
                if self._connected.is_set():
                    log.warning("redis connection lost; reconnecting: %r", exc)
                else:
                    self._warn("redis unavailable; retrying", exc)
            except Exception:
                raise_if_cancelling()
                log.exception("redis broker reader failed; reconnecting")
            raise_if_cancelling()  # also when a call inside swallowed the cancellation
            self._connected.clear()
            await self._drop_connection()
            await asyncio.sleep(backoff * (0.5 + self._random.random()))
            backoff = min(backoff * 2, self._max_backoff)

    async def _connect(self) -> AbstractConnection:
        conn = self._pool.make_connection()
        await conn.connect()
        async with self._send_lock:
            self._conn = conn
            self._active = set(self._handlers)
            if self._active:
                await conn.send_command(
                    "SUBSCRIBE", *(self._prefix + channel for channel in self._active)
                )
        self.connections += 1
        self._connected.set()
        if self.connections > 1:
            log.info("redis connection restored; subscribed to %d channels", len(self._active))
        for hook in list(self._hooks):
            task = asyncio.create_task(self._run_hook(hook))
            self._hook_tasks.add(task)
            task.add_done_callback(self._hook_tasks.discard)
        return conn

    async def _run_hook(self, hook: ReconnectHook) -> None:
        try:
            await hook()
        except Exception:
            log.exception("broker reconnect hook failed")

    async def _read(self, conn: AbstractConnection) -> None:
        pinger = asyncio.create_task(self._ping_loop(conn))
        loop = asyncio.get_running_loop()
        window = self._ping_interval * 3
        try:
            # Silence longer than a few pings means the link is dead without a reset. The
            # deadline moves at most once per ping interval, not once per message.
            async with asyncio.timeout_at(loop.time() + window) as silence:
                moved_at = loop.time()
                while True:
                    response = await conn.read_response(push_request=True)
                    now = loop.time()
                    if now - moved_at >= self._ping_interval:
                        silence.reschedule(now + window)
                        moved_at = now
                    await self._handle(response)
        finally:
            pinger.cancel()
            await asyncio.gather(pinger, return_exceptions=True)

    async def _ping_loop(self, conn: AbstractConnection) -> None:
        while True:
            await asyncio.sleep(self._ping_interval)
            async with self._send_lock:
                if self._conn is not conn:
                    return
                try:
                    await conn.send_command("PING")
                except REDIS_ERRORS:
                    return  # the reader sees the same failure and reconnects

    async def _handle(self, response: Any) -> None:
        if not isinstance(response, Sequence) or len(response) < 2:
            return
        kind = response[0]
        if kind in (b"message", "message") and len(response) >= 3:
            await self._deliver(response[1], response[2])
        elif kind in (b"subscribe", "subscribe"):
            raw = response[1]
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            for waiter in self._waiters.pop(key, ()):
                if not waiter.done():
                    waiter.set_result(None)

    async def _deliver(self, raw_channel: bytes | str, payload: bytes) -> None:
        if payload[:TAG_BYTES] == self._tag:
            return
        if self.drop_rate and self._random.random() < self.drop_rate:
            return  # test hook: behave like a lossy pub/sub
        key = raw_channel.decode() if isinstance(raw_channel, bytes) else raw_channel
        channel = key[len(self._prefix) :]
        data = payload[TAG_BYTES:]
        for handler in list(self._handlers.get(channel, ())):
            try:
                result = handler(data)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("broker handler failed on %s", channel)

    async def _drop_connection(self) -> None:
        async with self._send_lock:
            conn, self._conn = self._conn, None
            self._active = set()
        for waiters in self._waiters.values():
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)  # release subscribe(); the next connection covers it
        self._waiters.clear()
        if conn is not None:
            try:
                await conn.disconnect()
            except Exception:
                log.debug("closing the redis subscriber failed", exc_info=True)

    def _warn(self, message: str, exc: BaseException) -> None:
        """Warn at most every few seconds: an outage should not flood the log."""
        now = time.monotonic()
        if now - self._warned_at > 5:
            self._warned_at = now
            log.warning("%s: %r", message, exc)


class RedisEventJournal:
    """The bridge's journal: a capped Redis stream of recent events."""

    def __init__(self, redis: Redis, key: str, *, max_entries: int = 10_000) -> None:
        self.redis = redis
        self.key = key
        self.max_entries = max_entries

    async def append(self, data: bytes) -> str | None:
        try:
            entry_id = await self.redis.xadd(
                self.key, {b"e": data}, maxlen=self.max_entries, approximate=True
            )
        except REDIS_ERRORS:
            return None
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)

    async def read_since(self, milliseconds: int) -> list[tuple[str, bytes]]:
        entries: Any = await self.redis.xrange(self.key, min=f"{milliseconds}-0", max="+")
        return [
            (entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id), fields[b"e"])
            for entry_id, fields in entries or ()
        ]
