"""Notification housekeeping: read notifications past the retention, and mails long sent."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import AsyncExitStack
from datetime import timedelta

from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.notifications import repository
from cowrite.notifications.mail import queue
from cowrite.state import AppState

log = logging.getLogger(__name__)

BATCH = 1000
SENT_MAIL_DAYS = 7


async def delete_old_notifications(state: AppState) -> int:
    """Delete read notifications older than the retention (and sent mails older than a week),
    in short transactions; how many notifications went."""
    now = utcnow()
    read_before = now - timedelta(days=state.settings.notification_retention_days)
    total = 0
    while True:
        async with unit_of_work(state.session_factory) as session:
            deleted = await repository.delete_read_before(session, read_before, BATCH)
        total += deleted
        if deleted < BATCH:
            break
    while True:
        async with unit_of_work(state.session_factory) as session:
            mails = await queue.delete_sent_before(
                session, now - timedelta(days=SENT_MAIL_DAYS), BATCH
            )
        if mails < BATCH:
            return total


async def _forever(state: AppState) -> None:
    while True:
        try:
            deleted = await delete_old_notifications(state)
            if deleted:
                log.info("deleted %d read notifications past the retention", deleted)
        except Exception:
            log.exception("notification clean-up failed")
        await asyncio.sleep(state.settings.notification_maintenance_interval_seconds)


async def start_notification_cleanup(state: AppState, stack: AsyncExitStack) -> None:
    task = asyncio.create_task(_forever(state), name="cowrite-notification-cleanup")

    async def stop() -> None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    stack.push_async_callback(stop)
