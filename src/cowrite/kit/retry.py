"""One back-off rule for work retried from a durable queue."""

from __future__ import annotations

import random


def backoff_seconds(attempt: int, base: float, cap: float, *, jitter: float = 0.2) -> float:
    """The wait before try `attempt + 1` after `attempt` failures: doubling from `base`, at most
    `cap`, spread by up to `jitter` of itself so retries of many items do not move in step."""
    delay = min(cap, base * 2 ** max(0, min(attempt - 1, 30)))
    return delay * (1 - jitter * random.random())
