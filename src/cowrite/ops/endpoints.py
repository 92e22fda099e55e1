"""Draining on SIGTERM: the first thing a stopping process does, before the server's own
shutdown closes the listener and waits for open requests (COWRITE_SHUTDOWN_TIMEOUT).

It turns new sockets away with 503 (a proxy hands them to another process), has /ready answer
503, sends out what every co-editing room holds and closes the Yjs sockets with 1001 so that
their clients reconnect at once. Presence sockets get their 1001 from the presence feature's
own hook, which runs next. The feature has no routes of its own.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

from fastapi import APIRouter

from cowrite.presence.shutdown import install_shutdown_hook
from cowrite.state import AppState

log = logging.getLogger(__name__)
router = APIRouter()

# How long the Yjs clients get to take their close frame before the server goes on.
CLOSE_WITHIN_SECONDS = 2.0


async def drain(state: AppState) -> None:
    state.draining = True
    log.info("draining: new sockets go elsewhere, open ones close with 1001")
    if state.collab is not None:
        await state.collab.going_away(CLOSE_WITHIN_SECONDS)


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    loop = asyncio.get_running_loop()
    stack.callback(install_shutdown_hook(loop, lambda: drain(state)))
