"""Notification housekeeping: read notifications past the retention, and mails long sent."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import timedelta

from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.kit.tasks import start_periodic
from cowrite.notifications import repository
from cowrite.notifications.mail import queue
from cowrite.state import AppState

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


async def start_notification_cleanup(state: AppState, stack: AsyncExitStack) -> None:
    start_periodic(
        stack,
        "cowrite-notification-cleanup",
        lambda: delete_old_notifications(state),
        state.settings.notification_maintenance_interval_seconds,
        "deleted %d read notifications past the retention",
    )
