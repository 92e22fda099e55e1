"""The events a webhook can subscribe to, and `enqueue_event`: the one call a feature makes.

`enqueue_event` writes the deliveries into the caller's session, so they commit (or roll back)
with the change they describe; the worker sends them after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal, get_args

import orjson
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from cowrite.kit.clock import utcnow
from cowrite.kit.ids import new_id
from cowrite.models import WebhookDelivery
from cowrite.webhooks import repository

EventName = Literal[
    "document.created",
    "document.updated",
    "document.deleted",
    "document.restored",
    "comment.created",
    "comment.resolved",
    "member.added",
    "member.removed",
    "share.created",
]
EVENTS: tuple[str, ...] = get_args(EventName)
TEST_EVENT = "webhook.test"
# `document.updated` goes out at most once per document in this window.
UPDATE_WINDOW = timedelta(minutes=1)
THROTTLED = {"document.updated"}

_WAKE_FLAG = "cowrite.webhooks.wake"
_wakers: list[Callable[[], None]] = []


def add_waker(wake: Callable[[], None]) -> None:
    """Call `wake` after every commit that queued deliveries in this process."""
    _wakers.append(wake)


def remove_waker(wake: Callable[[], None]) -> None:
    if wake in _wakers:
        _wakers.remove(wake)


def _after_commit(session: Session) -> None:
    session.info.pop(_WAKE_FLAG, None)
    for wake in list(_wakers):
        wake()


def _wake_after_commit(session: AsyncSession) -> None:
    if not session.info.get(_WAKE_FLAG):
        session.info[_WAKE_FLAG] = True
        sa_event.listen(session.sync_session, "after_commit", _after_commit, once=True)


def delivery_body(
    delivery_id: uuid.UUID, event: str, workspace_id: uuid.UUID, data: dict[str, Any]
) -> str:
    """The JSON a receiver gets, fixed at enqueue time so every attempt sends the same bytes."""
    body = {
        "id": delivery_id,
        "event": event,
        "created_at": utcnow().isoformat().replace("+00:00", "Z"),
        "workspace_id": workspace_id,
        "data": data,
    }
    return orjson.dumps(body, default=str).decode()


async def enqueue_event(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    event: EventName,
    data: dict[str, Any],
    *,
    subject: uuid.UUID | None = None,
) -> int:
    """Queue `event` for every active webhook of the workspace that wants it; returns how many.

    `subject` names what the event is about (a document): updates of one subject go out at
    most once per `UPDATE_WINDOW`."""
    hooks = await repository.subscribed(session, workspace_id, event)
    if not hooks:
        return 0
    key = str(subject) if subject is not None else None
    since = utcnow() - UPDATE_WINDOW
    if (
        key is not None
        and event in THROTTLED
        and await repository.sent_since(session, key, event, since)
    ):
        return 0
    for webhook_id in hooks:
        add_delivery(session, webhook_id, workspace_id, event, data, subject=key)
    _wake_after_commit(session)
    return len(hooks)


def add_delivery(
    session: AsyncSession,
    webhook_id: uuid.UUID,
    workspace_id: uuid.UUID,
    event: str,
    data: dict[str, Any],
    *,
    subject: str | None = None,
) -> WebhookDelivery:
    delivery_id = new_id()
    delivery = WebhookDelivery(
        id=delivery_id,
        webhook_id=webhook_id,
        event=event,
        subject=subject,
        body=delivery_body(delivery_id, event, workspace_id, data),
        status="pending",
        attempt=0,
        next_attempt_at=utcnow(),
    )
    session.add(delivery)
    _wake_after_commit(session)
    return delivery
