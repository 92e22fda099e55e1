"""Login throttling by account-and-address and by address, with a bounded back-off.

An attacker's failures lock only the (email, address) pairs and addresses they use, so a real
user elsewhere can still sign in; every lockout ends after at most `max_lockout` seconds.
"""

from __future__ import annotations

import math
import time
from collections import deque
from typing import Protocol


class LoginThrottle(Protocol):
    async def retry_after(self, keys: list[tuple[str, int]]) -> int | None:
        """Seconds to wait if any key (name, allowed failures) is locked, else None."""

    async def record_failure(self, keys: list[str]) -> None: ...

    async def reset(self, keys: list[str]) -> None: ...


def lockout_seconds(failures: int, allowed: int, max_lockout: int) -> int:
    """Doubling back-off past the allowance: 30 s, 60 s, 120 s … capped."""
    if failures < allowed:
        return 0
    return int(min(max_lockout, 30 * 2 ** min(failures - allowed, 16)))


class MemoryLoginThrottle:
    """Failures kept per key in this process (the embedded default)."""

    def __init__(self, window: int, max_lockout: int) -> None:
        self.window = window
        self.max_lockout = max_lockout
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        entries = self._failures.get(key)
        if entries is None:
            return deque()
        while entries and entries[0] < now - self.window:
            entries.popleft()
        if not entries:
            del self._failures[key]
        return entries

    async def retry_after(self, keys: list[tuple[str, int]]) -> int | None:
        now = time.monotonic()
        longest = 0.0
        for key, allowed in keys:
            entries = self._recent(key, now)
            wait = lockout_seconds(len(entries), allowed, self.max_lockout)
            if wait:
                longest = max(longest, entries[-1] + wait - now)
        return math.ceil(longest) if longest > 0 else None

    async def record_failure(self, keys: list[str]) -> None:
        now = time.monotonic()
        for key in keys:
            self._failures.setdefault(key, deque(maxlen=1000)).append(now)

    async def reset(self, keys: list[str]) -> None:
        for key in keys:
            self._failures.pop(key, None)
