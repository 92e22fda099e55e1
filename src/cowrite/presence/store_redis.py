"""The presence store on Redis, shared by every process (scale-out).

Each connection's entry is its own key with an expiry, indexed per document (oldest first) and
per process. Each process keeps a liveness key that its heartbeat refreshes, together with its
own entries (so a Redis restart heals within one beat). Entries of a process whose liveness key
expired are hidden at once and reaped by the first live process that notices: it removes them
through the presence service, which tells every room `user_left`. While Redis is away the store
answers from this process's own entries and keeps serving.

Cursor and selection changes of this process's own entries apply in memory at once and reach
Redis every `write_interval` seconds, the latest state of each entry in one pipeline: at 10
moves per second per user, writing each tick's changes took a fifth of a process's busy time. Lists
read here show this process's entries as they are now; other processes see them at most one
interval late (live events carry every move).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, suppress
from dataclasses import replace
from typing import Any

import orjson
from redis.asyncio import Redis

from cowrite.broker.redis import REDIS_ERRORS
from cowrite.kit.tasks import raise_if_cancelling
from cowrite.presence.store import (
    MUTABLE_FIELDS,
    EntryKey,
    MemoryPresenceStore,
    PresenceEntry,
    PresenceStore,
)
from cowrite.state import AppState

log = logging.getLogger(__name__)

DeadEntryHandler = Callable[[uuid.UUID, uuid.UUID], Awaitable[Any]]

# KEYS[1]: the document index. ARGV[1]: entry key prefix, ARGV[2]: liveness key prefix.
# The entries of live processes, oldest first; index members whose entry expired are dropped.
_LIST = """
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local out, alive = {}, {}
for _, conn in ipairs(ids) do
  local value = redis.call('GET', ARGV[1] .. conn)
  if not value then
    redis.call('ZREM', KEYS[1], conn)
  else
    local pid = cjson.decode(value)['process_id']
    if alive[pid] == nil then
      alive[pid] = redis.call('EXISTS', ARGV[2] .. pid) == 1
    end
    if alive[pid] then
      out[#out + 1] = value
    end
  end
end
return out
"""

# KEYS[1]: the document index. ARGV[1]: entry key prefix, ARGV[2]: liveness key prefix,
# ARGV[3]: the joining connection, ARGV[4]: its entry as it is to be (in the call), ARGV[5]: the
# most others a call holds. Counts the call's entries of live processes and writes the joining
# entry only if there is room (or it was in the call already): 1, else 0 (full), -1 (no entry).
_JOIN_CALL = """
local key = ARGV[1] .. ARGV[3]
local mine = redis.call('GET', key)
if not mine then
  return -1
end
if type(cjson.decode(mine)['call']) ~= 'table' then
  local count, alive = 0, {}
  for _, conn in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    if conn ~= ARGV[3] then
      local value = redis.call('GET', ARGV[1] .. conn)
      if value then
        local entry = cjson.decode(value)
        local pid = entry['process_id']
        if alive[pid] == nil then
          alive[pid] = redis.call('EXISTS', ARGV[2] .. pid) == 1
        end
        if alive[pid] and type(entry['call']) == 'table' then
          count = count + 1
        end
      end
    end
  end
  if count >= tonumber(ARGV[5]) then
    return 0
  end
end
redis.call('SET', key, ARGV[4], 'KEEPTTL')
return 1
"""


def _dumps(entry: PresenceEntry) -> bytes:
    return orjson.dumps(entry.to_record())


def _loads(value: bytes | str) -> PresenceEntry:
    return PresenceEntry.from_record(orjson.loads(value))


def _apply(entry: PresenceEntry, changes: Mapping[str, Any]) -> None:
    for name, change in changes.items():
        if name in MUTABLE_FIELDS:
            setattr(entry, name, change)


class RedisPresenceStore:
    def __init__(
        self,
        redis: Redis,
        process_id: str,
        *,
        timeout: float,
        prefix: str = "cowrite:",
        on_dead_entry: DeadEntryHandler | None = None,
        write_interval: float = 0.25,
    ) -> None:
        self.redis = redis
        self.write_interval = write_interval
        self.process_id = process_id
        self.on_dead_entry = on_dead_entry
        base = f"{prefix}presence:"
        self._entry = base + "e:"
        self._doc = base + "d:"
        self._proc = base + "p:"
        self._alive = base + "alive:"
        self._procs = base + "procs"
        # A process is dead after missing three beats, well inside the presence timeout.
        self.beat_seconds = max(0.05, timeout / 4)
        self.alive_ttl_ms = max(150, int(timeout * 750))
        self.entry_ttl_ms = max(1000, int(timeout * 2000))  # outlives liveness: reapable
        self.reap_seconds = max(0.05, timeout / 8)
        # This process's own entries (the source of every beat), in join order.
        self._own: dict[tuple[uuid.UUID, uuid.UUID], PresenceEntry] = {}
        # Own entries changed in memory since their last write to Redis.
        self._unwritten: set[EntryKey] = set()
        # Own entries joining a call (written by the join's script, not by beats meanwhile).
        self._joining: set[EntryKey] = set()
        self._list = redis.register_script(_LIST)
        self._join_call = redis.register_script(_JOIN_CALL)
        self._tasks: list[asyncio.Task[None]] = []
        self._warned_at = 0.0

    # -- keys -----------------------------------------------------------------------------------

    def _entry_key(self, document_id: uuid.UUID, connection_id: uuid.UUID) -> str:
        return f"{self._entry}{document_id}:{connection_id}"

    def _owner(self, entry: PresenceEntry) -> str:
        return entry.process_id or self.process_id

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Start beating and reaping; a Redis that is away now is retried by the next beats."""
        self._tasks = [
            asyncio.create_task(self._every(self.beat_seconds, self.beat), name="presence-beat"),
            asyncio.create_task(self._every(self.reap_seconds, self.reap), name="presence-reap"),
            asyncio.create_task(
                self._every(self.write_interval, self.write_changes), name="presence-write"
            ),
        ]
        try:
            await self.beat()
        except REDIS_ERRORS as exc:
            self._warn("presence: redis unavailable at start; retrying", exc)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        with suppress(*REDIS_ERRORS):
            await self.redis.delete(self._alive + self.process_id)

    async def _every(self, seconds: float, work: Callable[[], Awaitable[Any]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await work()
            except REDIS_ERRORS as exc:
                raise_if_cancelling()
                self._warn("presence: redis unavailable", exc)
            except Exception:
                raise_if_cancelling()
                log.exception("presence store background work failed")
            raise_if_cancelling()  # also when a call inside swallowed the cancellation

    async def beat(self) -> None:
        """Say this process is alive and (re)write its entries: heals a restarted Redis."""
        joining = self._joining
        entries = [e for k, e in self._own.items() if k not in joining]
        self._unwritten &= joining
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.set(self._alive + self.process_id, b"1", px=self.alive_ttl_ms)
            pipe.sadd(self._procs, self.process_id)
            for entry in entries:
                self._write(pipe, entry, only_new_in_index=True)
            await pipe.execute()

    def _write(self, pipe: Any, entry: PresenceEntry, *, only_new_in_index: bool) -> None:
        owner = self._owner(entry)
        doc_key = f"{self._doc}{entry.document_id}"
        proc_key = self._proc + owner
        score = time.time() * 1000
        pipe.set(
            self._entry_key(entry.document_id, entry.connection_id),
            _dumps(entry),
            px=self.entry_ttl_ms,
        )
        pipe.zadd(doc_key, {str(entry.connection_id): score}, nx=only_new_in_index)
        pipe.pexpire(doc_key, self.entry_ttl_ms)
        pipe.sadd(proc_key, f"{entry.document_id}:{entry.connection_id}")
        pipe.pexpire(proc_key, self.entry_ttl_ms)

    # -- the PresenceStore protocol -------------------------------------------------------------

    async def add(self, entry: PresenceEntry) -> None:
        if not entry.process_id:
            entry = replace(entry, process_id=self.process_id)
        if entry.process_id == self.process_id:
            self._own[(entry.document_id, entry.connection_id)] = replace(entry)
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                self._write(pipe, entry, only_new_in_index=False)
                pipe.sadd(self._procs, entry.process_id)
                await pipe.execute()
        except REDIS_ERRORS as exc:
            self._warn("presence: redis unavailable; the next beat writes it", exc)

    async def update(
        self, document_id: uuid.UUID, connection_id: uuid.UUID, changes: Mapping[str, Any]
    ) -> None:
        entry = self._own.get((document_id, connection_id))
        key = self._entry_key(document_id, connection_id)
        try:
            if entry is None:  # another process's entry: read, change, write back
                value = await self.redis.get(key)
                if value is None:
                    return
                entry = _loads(value)
            _apply(entry, changes)
            await self.redis.set(key, _dumps(entry), xx=True, keepttl=True)
        except REDIS_ERRORS as exc:
            self._warn("presence: redis unavailable; the next beat writes it", exc)

    async def update_many(self, changes: Mapping[EntryKey, Mapping[str, Any]]) -> None:
        """Own entries change in memory now and reach Redis with the next `write_changes`;
        another process's entries (rare: a connection's own process writes it) go through
        `update`, read, changed and written back at once."""
        for key, values in changes.items():
            entry = self._own.get(key)
            if entry is None:
                await self.update(*key, values)
                continue
            _apply(entry, values)
            self._unwritten.add(key)

    async def write_changes(self) -> None:
        """Write the own entries changed since the last write (latest state, one pipeline).
        An entry removed meanwhile stays removed: only existing keys are overwritten."""
        if not self._unwritten:
            return
        keys, self._unwritten = self._unwritten - self._joining, self._unwritten & self._joining
        entries = {key: entry for key in keys if (entry := self._own.get(key)) is not None}
        if not entries:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for (document_id, connection_id), entry in entries.items():
                    name = self._entry_key(document_id, connection_id)
                    pipe.set(name, _dumps(entry), xx=True, keepttl=True)
                await pipe.execute()
        except REDIS_ERRORS as exc:
            self._unwritten |= keys  # written on a later try, or by the next beat
            self._warn("presence: redis unavailable; the next beat writes it", exc)

    async def remove(
        self, document_id: uuid.UUID, connection_id: uuid.UUID
    ) -> PresenceEntry | None:
        local = self._own.pop((document_id, connection_id), None)
        self._unwritten.discard((document_id, connection_id))
        key = self._entry_key(document_id, connection_id)
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.get(key)
                pipe.delete(key)
                pipe.zrem(f"{self._doc}{document_id}", str(connection_id))
                value, deleted, _ = await pipe.execute()
        except REDIS_ERRORS as exc:
            self._warn("presence: redis unavailable; the entry expires by itself", exc)
            return local
        stored = _loads(value) if value is not None and deleted else None
        entry = local or stored
        if entry is not None:
            member = f"{document_id}:{connection_id}"
            with suppress(*REDIS_ERRORS):
                await self.redis.srem(self._proc + self._owner(entry), member)
        # Only the caller that actually removed it gets it back (a reaper race has one winner).
        return local if local is not None else stored

    async def join_call(
        self, document_id: uuid.UUID, connection_id: uuid.UUID, media: dict[str, bool], limit: int
    ) -> bool:
        """Counted and written in one script, so two processes cannot both take the last place;
        the entries of dead processes do not count (and expire). Only this process's own
        entries join (a connection joins on the process that holds it)."""
        entry = self._own.get((document_id, connection_id))
        if entry is None:
            return False
        key = (document_id, connection_id)
        wanted = replace(entry, call=media)
        self._joining.add(key)  # no write of the old flags while the script runs
        try:
            answer = await self._join_call(
                keys=[f"{self._doc}{document_id}"],
                args=[
                    f"{self._entry}{document_id}:",
                    self._alive,
                    str(connection_id),
                    _dumps(wanted),
                    limit,
                ],
            )
        except REDIS_ERRORS as exc:
            # Redis away: this process's own count (checked by the caller) has to do.
            self._warn("presence: redis unavailable; a call place is counted here only", exc)
            answer = 1
        finally:
            self._joining.discard(key)
        if int(answer) == 0:
            return False
        if int(answer) < 0:  # the entry is not in Redis yet: written by the next beat
            self._unwritten.add(key)
        current = self._own.get(key)
        if current is None:
            return False  # left meanwhile
        current.call = media
        return True

    async def list_document(self, document_id: uuid.UUID) -> list[PresenceEntry]:
        try:
            values = await self._list(
                keys=[f"{self._doc}{document_id}"],
                args=[f"{self._entry}{document_id}:", self._alive],
            )
        except REDIS_ERRORS as exc:
            self._warn("presence: redis unavailable; listing this process's entries", exc)
            return [replace(e) for e in self._own.values() if e.document_id == document_id]
        listed = [_loads(value) for value in values]
        # This process's own entries as they are now (Redis may hold one interval older).
        own = self._own
        return [
            replace(own[key]) if (key := (e.document_id, e.connection_id)) in own else e
            for e in listed
        ]

    async def remove_process(self, process_id: str) -> list[PresenceEntry]:
        removed: list[PresenceEntry] = []
        if process_id == self.process_id:
            removed, self._own = list(self._own.values()), {}
            self._unwritten.clear()
        try:
            members = await self.redis.smembers(self._proc + process_id)
            stored: list[PresenceEntry] = []
            for member in members:
                text = member.decode() if isinstance(member, bytes) else str(member)
                document_id, connection_id = (uuid.UUID(part) for part in text.split(":"))
                entry = await self.remove(document_id, connection_id)
                if entry is not None:
                    stored.append(entry)
            await self.redis.delete(self._proc + process_id, self._alive + process_id)
            await self.redis.srem(self._procs, process_id)
        except REDIS_ERRORS as exc:
            self._warn("presence: redis unavailable while removing a process", exc)
            return removed
        known = {(entry.document_id, entry.connection_id) for entry in removed}
        return removed + [e for e in stored if (e.document_id, e.connection_id) not in known]

    # -- dead processes -------------------------------------------------------------------------

    async def reap(self) -> int:
        """Remove the entries of processes whose liveness key expired; returns how many."""
        others = [
            pid.decode() if isinstance(pid, bytes) else str(pid)
            for pid in await self.redis.smembers(self._procs)
        ]
        others = [pid for pid in others if pid != self.process_id]
        if not others:
            return 0
        async with self.redis.pipeline(transaction=False) as pipe:
            for pid in others:
                pipe.exists(self._alive + pid)
            alive = await pipe.execute()
        reaped = 0
        for pid, is_alive in zip(others, alive, strict=True):
            # SREM answers 1 to one caller only: that process does the reaping.
            if is_alive or not await self.redis.srem(self._procs, pid):
                continue
            members = await self.redis.smembers(self._proc + pid)
            for member in members:
                text = member.decode() if isinstance(member, bytes) else str(member)
                document_id, connection_id = (uuid.UUID(part) for part in text.split(":"))
                if self.on_dead_entry is not None:
                    await self.on_dead_entry(document_id, connection_id)
                else:
                    await self.remove(document_id, connection_id)
                reaped += 1
            await self.redis.delete(self._proc + pid)
            log.info("removed %d presence entries of the stopped process %s", len(members), pid)
        return reaped

    def _warn(self, message: str, exc: BaseException) -> None:
        now = time.monotonic()
        if now - self._warned_at > 5:
            self._warned_at = now
            log.warning("%s: %r", message, exc)


async def presence_store(state: AppState, stack: AsyncExitStack) -> PresenceStore:
    """The store for this deployment: Redis when configured (shared), else this process's memory.

    Dead processes' entries are removed through `state.presence.untrack_external`, so every room
    hears `user_left` for them.
    """
    if not state.settings.redis_url:
        return MemoryPresenceStore()
    redis: Redis = state.broker.redis  # type: ignore[attr-defined]  # RedisBroker with a Redis URL

    async def on_dead_entry(document_id: uuid.UUID, connection_id: uuid.UUID) -> None:
        if state.presence is not None:
            await state.presence.untrack_external(document_id, connection_id)
        else:
            await store.remove(document_id, connection_id)

    store = RedisPresenceStore(
        redis,
        state.process_id,
        timeout=state.settings.presence_timeout_seconds,
        prefix=state.settings.redis_key_prefix,
        on_dead_entry=on_dead_entry,
        write_interval=state.settings.presence_store_write_interval_ms / 1000,
    )
    await store.start()
    state.broker.add_reconnect_hook(store.beat)
    stack.push_async_callback(store.close)
    return store
