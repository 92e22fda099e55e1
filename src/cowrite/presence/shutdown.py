"""Close sockets with 1001 *before* the server's own shutdown does it.

uvicorn answers SIGTERM/SIGINT by closing every WebSocket with 1012 before the app's lifespan
shutdown runs, too late for the contract's 1001. This hook runs first: it lets the app close its
sockets (bounded by their close timeout), then hands the signal on to the server's handler.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import threading
from collections.abc import Awaitable, Callable
from types import FrameType
from typing import Any

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGTERM, signal.SIGINT)


def install_shutdown_hook(
    loop: asyncio.AbstractEventLoop, before_exit: Callable[[], Awaitable[None]]
) -> Callable[[], None]:
    """Run `before_exit` on the first SIGTERM/SIGINT, then the previous handler; returns the
    function that restores the previous handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in SIGNALS}
    started = False
    tasks: set[asyncio.Task[None]] = set()

    def forward(sig: int, frame: FrameType | None) -> None:
        handler = previous.get(sig)
        if callable(handler):
            handler(sig, frame)
        elif handler == signal.SIG_IGN:
            return
        else:
            signal.signal(sig, signal.SIG_DFL)
            os.kill(os.getpid(), sig)

    async def close_then_forward(sig: int, frame: FrameType | None) -> None:
        try:
            await before_exit()
        except Exception:
            log.exception("closing sockets before shutdown failed")
        forward(sig, frame)

    def on_signal(sig: int, frame: FrameType | None) -> None:
        nonlocal started
        if started:  # a second signal: no more waiting
            forward(sig, frame)
            return
        started = True

        def schedule() -> None:
            task = loop.create_task(close_then_forward(sig, frame))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        loop.call_soon_threadsafe(schedule)

    for sig in SIGNALS:
        signal.signal(sig, on_signal)

    def restore() -> None:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is on_signal:
                signal.signal(sig, handler)

    return restore
