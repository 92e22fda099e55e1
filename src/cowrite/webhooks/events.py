"""The events a webhook can subscribe to, and `enqueue_event`: the one call a feature makes.

`enqueue_event` writes the deliveries into the caller's session, so they commit (or roll back)
with the change they describe; the worker sends them after the commit.

When this process's worker has room, a new delivery is written already leased to it (its first
attempt under way), and the commit hands it straight to the worker: no outbox poll and no claim
transaction stand between the commit and the POST. Should the process die first, the lease runs
out and any process claims the row from the outbox as usual (at least once, never lost).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal, Protocol, get_args

import orjson
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from cowrite.kit.clock import utcnow
from cowrite.kit.ids import new_id
from cowrite.models import WebhookDelivery
from cowrite.webhooks import repository
from cowrite.webhooks.repository import Claimed, Subscriber

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
_TAKEN = "cowrite.webhooks.taken"
_wakers: list[Callable[[], None]] = []


class Taker(Protocol):
    """The worker of this process, taking deliveries leased to it at enqueue time."""

    @property
    def lease(self) -> timedelta: ...

    def has_room(self) -> bool: ...

    def take(self, claimed: list[Claimed]) -> None: ...


_takers: list[Taker] = []


def add_waker(wake: Callable[[], None], taker: Taker | None = None) -> None:
    """Call `wake` after every commit that queued deliveries in this process; with a `taker`,
    also hand it the committed deliveries that were leased to it."""
    _wakers.append(wake)
    if taker is not None:
        _takers.append(taker)


def remove_waker(wake: Callable[[], None], taker: Taker | None = None) -> None:
    if wake in _wakers:
        _wakers.remove(wake)
    if taker is not None and taker in _takers:
        _takers.remove(taker)


def _after_commit(session: Session) -> None:
    session.info.pop(_WAKE_FLAG, None)
    taken: list[Claimed] = session.info.pop(_TAKEN, [])
    if taken and _takers:
        _takers[0].take(taken)
    for wake in list(_wakers):
        wake()


def _after_rollback(session: Session) -> None:
    session.info.pop(_TAKEN, None)  # those rows never existed
    session.info.pop(_WAKE_FLAG, None)  # the next enqueue listens afresh


def _wake_after_commit(session: AsyncSession) -> None:
    if not session.info.get(_WAKE_FLAG):
        session.info[_WAKE_FLAG] = True
        sa_event.listen(session.sync_session, "after_commit", _after_commit, once=True)
        sa_event.listen(session.sync_session, "after_rollback", _after_rollback, once=True)


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


# `session.info` key: the transaction in which workspaces were read to have no active webhook,
# and those workspaces.
_NO_WEBHOOKS = "cowrite.webhooks.none"


def note_no_webhooks(session: AsyncSession, workspace_id: uuid.UUID) -> None:
    """The caller read, in the session's current transaction, that the workspace has no active
    webhook (`cowrite.workspaces.access.role_and_webhooks`): `enqueue_event` takes its word
    until that transaction ends, instead of asking again."""
    transaction = session.sync_session.get_transaction()
    if transaction is None:
        return
    noted = session.info.get(_NO_WEBHOOKS)
    if noted is None or noted[0] is not transaction:
        session.info[_NO_WEBHOOKS] = (transaction, {workspace_id})
    else:
        noted[1].add(workspace_id)


def _known_without_webhooks(session: AsyncSession, workspace_id: uuid.UUID) -> bool:
    noted = session.info.get(_NO_WEBHOOKS)
    return (
        noted is not None
        and workspace_id in noted[1]
        and noted[0] is session.sync_session.get_transaction()
    )


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
    if _known_without_webhooks(session, workspace_id):
        return 0
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
    for hook in hooks:
        add_delivery(session, hook, workspace_id, event, data, subject=key)
    return len(hooks)


def add_delivery(
    session: AsyncSession,
    hook: Subscriber,
    workspace_id: uuid.UUID,
    event: str,
    data: dict[str, Any],
    *,
    subject: str | None = None,
) -> WebhookDelivery:
    delivery_id = new_id()
    body = delivery_body(delivery_id, event, workspace_id, data)
    now = utcnow()
    taker = _takers[0] if _takers and _takers[0].has_room() else None
    delivery = WebhookDelivery(
        id=delivery_id,
        webhook_id=hook.id,
        event=event,
        subject=subject,
        body=body,
        status="pending",
        # Leased to this process's worker, its first attempt under way; or due for any worker.
        attempt=1 if taker else 0,
        next_attempt_at=now + taker.lease if taker else now,
        created_at=now,
    )
    session.add(delivery)
    if taker is not None:
        claimed = Claimed(delivery_id, hook.id, event, body, 1, now, hook.url, hook.secret)
        session.info.setdefault(_TAKEN, []).append(claimed)
    _wake_after_commit(session)
    return delivery
