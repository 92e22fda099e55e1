"""Helpers for long-running background loops."""

from __future__ import annotations

import asyncio


def raise_if_cancelling() -> None:
    """Re-raise a cancellation that a library turned into an ordinary error.

    A loop that catches errors to retry would otherwise go on after its one `cancel()` (some
    clients answer a cancellation inside a call with a connection error), and whoever awaits
    the task at shutdown would wait forever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
