"""Background purge of workspaces deleted longer ago than the trash retention."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack

from cowrite.db import unit_of_work
from cowrite.state import AppState
from cowrite.workspaces import service

log = logging.getLogger(__name__)


async def purge_deleted_workspaces_once(state: AppState) -> int:
    """Purge in batches until nothing old is left; returns how many workspaces went."""
    total = 0
    while True:
        async with unit_of_work(state.session_factory) as session:
            purged = await service.purge_deleted_workspaces(
                session, state.settings.trash_retention_days
            )
        total += len(purged)
        if not purged:
            return total


async def _purge_forever(state: AppState) -> None:
    while True:
        try:
            purged = await purge_deleted_workspaces_once(state)
            if purged:
                log.info("purged %d deleted workspaces", purged)
        except Exception:
            log.exception("workspace purge failed")
        await asyncio.sleep(state.settings.trash_purge_interval_seconds)


async def start_workspace_purge(state: AppState, stack: AsyncExitStack) -> None:
    task = asyncio.create_task(_purge_forever(state), name="cowrite-workspace-purge")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)
