"""One retry back-off: doubling from a first delay up to a cap, with jitter."""

from __future__ import annotations

import random


def backoff_delay(attempt: int, first: float, cap: float, jitter: float = 0.2) -> float:
    """Seconds to wait before retry number `attempt` (1 for the first retry)."""
    base = min(cap, first * (2 ** max(0, attempt - 1)))
    return base * (1 - jitter + 2 * jitter * random.random())
