"""Background purge of workspaces deleted longer ago than the trash retention."""

from __future__ import annotations

from contextlib import AsyncExitStack

from cowrite.db import unit_of_work
from cowrite.kit.tasks import start_periodic
from cowrite.state import AppState
from cowrite.workspaces import service


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


async def start_workspace_purge(state: AppState, stack: AsyncExitStack) -> None:
    start_periodic(
        stack,
        "cowrite-workspace-purge",
        lambda: purge_deleted_workspaces_once(state),
        state.settings.trash_purge_interval_seconds,
        "purged %d deleted workspaces",
    )
