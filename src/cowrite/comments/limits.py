"""Per-user flood control for new comments (in this process)."""

from __future__ import annotations

import uuid

from cowrite.kit.errors import TooManyRequests
from cowrite.kit.ratelimit import TokenBucket

MAX_TRACKED_USERS = 10_000


class CommentLimiter:
    def __init__(self, burst: int, per_second: float) -> None:
        self.burst = burst
        self.per_second = per_second
        self._buckets: dict[uuid.UUID, TokenBucket] = {}

    def take(self, user_id: uuid.UUID) -> None:
        """Spend one comment of `user_id`'s allowance, or refuse with 429."""
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED_USERS:
                self._buckets.clear()  # full buckets again: a burst at most, never unbounded
            bucket = self._buckets[user_id] = TokenBucket(self.per_second, self.burst)
        if not bucket.take():
            retry = max(1, round(1 / self.per_second)) if self.per_second > 0 else 60
            raise TooManyRequests(
                "Too many comments; slow down",
                code="rate_limited",
                headers={"Retry-After": str(retry)},
            )
