"""Helpers for long-running background loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack


def raise_if_cancelling() -> None:
    """Re-raise a cancellation that a library turned into an ordinary error.

    A loop that catches errors to retry would otherwise go on after its one `cancel()` (some
    clients answer a cancellation inside a call with a connection error), and whoever awaits
    the task at shutdown would wait forever.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def start_periodic(
    stack: AsyncExitStack,
    name: str,
    work: Callable[[], Awaitable[int]],
    interval_seconds: float,
    done: str,
) -> asyncio.Task[None]:
    """Run `work` now and then every `interval_seconds` until the stack closes.

    `work` returns how many things it handled; a non-zero count is logged with the `done` format
    (e.g. "purged %d documents from the trash"). A failure is logged and the loop goes on.
    """
    log = logging.getLogger(name)

    async def forever() -> None:
        while True:
            try:
                handled = await work()
                if handled:
                    log.info(done, handled)
            except Exception:
                raise_if_cancelling()
                log.exception("%s failed", name)
            await asyncio.sleep(interval_seconds)

    task = asyncio.create_task(forever(), name=name)

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)
    return task
