"""One token bucket for every rate limit: `burst` at once, then `rate` per second."""

from __future__ import annotations

import time


class TokenBucket:
    __slots__ = ("burst", "rate", "stamp", "tokens")

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self, cost: float = 1.0, now: float | None = None) -> bool:
        """Spend `cost` tokens if there are that many; False (nothing spent) otherwise."""
        if now is None:
            now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < cost:
            return False
        self.tokens -= cost
        return True
