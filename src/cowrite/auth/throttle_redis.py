"""Login throttling shared by every process through Redis (same rules as the memory throttle).

Each key is a sorted set of failure times (Redis server time, so every process agrees on the
clock). Scripts prune and read or append atomically. While Redis is away the throttle falls back
to this process's memory: logins keep working, throttled per process until Redis returns.
"""

from __future__ import annotations

import logging
import math
import secrets

from redis.asyncio import Redis

from cowrite.auth.throttle import MemoryLoginThrottle, lockout_seconds
from cowrite.broker.redis import REDIS_ERRORS

log = logging.getLogger(__name__)

MAX_ENTRIES = 1000

# KEYS: the throttle keys; ARGV[1]: window (s). Returns now, then count and latest per key.
_READ = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local out = {tostring(now)}
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(ARGV[1]))
  local latest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  out[#out + 1] = redis.call('ZCARD', key)
  out[#out + 1] = latest[2] or '0'
end
return out
"""

# KEYS: the throttle keys; ARGV[1]: window (s), ARGV[2]: cap, ARGV[3]: a unique member suffix.
_RECORD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local window = tonumber(ARGV[1])
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, t[1] .. '.' .. t[2] .. ':' .. ARGV[3])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  redis.call('ZREMRANGEBYRANK', key, 0, -tonumber(ARGV[2]) - 1)
  redis.call('EXPIRE', key, math.ceil(window))
end
return 1
"""


class RedisLoginThrottle:
    def __init__(
        self, redis: Redis, window: int, max_lockout: int, *, prefix: str = "cowrite:"
    ) -> None:
        self.redis = redis
        self.window = window
        self.max_lockout = max_lockout
        self.prefix = prefix + "throttle:"
        self.fallback = MemoryLoginThrottle(window, max_lockout)
        self._read = redis.register_script(_READ)
        self._record = redis.register_script(_RECORD)
        self._member = secrets.token_hex(8)  # keeps failures of different processes apart
        self._counter = 0

    async def retry_after(self, keys: list[tuple[str, int]]) -> int | None:
        try:
            names = [self.prefix + key for key, _ in keys]
            reply = await self._read(keys=names, args=[self.window])
        except REDIS_ERRORS as exc:
            log.warning("login throttle: redis unavailable, using this process's memory: %r", exc)
            return await self.fallback.retry_after(keys)
        now = float(reply[0])
        longest = 0.0
        for index, (_, allowed) in enumerate(keys):
            count, latest = int(reply[1 + 2 * index]), float(reply[2 + 2 * index])
            wait = lockout_seconds(count, allowed, self.max_lockout)
            if wait:
                longest = max(longest, latest + wait - now)
        return math.ceil(longest) if longest > 0 else None

    async def record_failure(self, keys: list[str]) -> None:
        self._counter += 1
        try:
            await self._record(
                keys=[self.prefix + key for key in keys],
                args=[self.window, MAX_ENTRIES, f"{self._member}:{self._counter}"],
            )
        except REDIS_ERRORS as exc:
            log.warning("login throttle: redis unavailable, using this process's memory: %r", exc)
            await self.fallback.record_failure(keys)

    async def reset(self, keys: list[str]) -> None:
        await self.fallback.reset(keys)
        try:
            await self.redis.delete(*(self.prefix + key for key in keys))
        except REDIS_ERRORS as exc:
            log.warning("login throttle: redis unavailable while resetting: %r", exc)
