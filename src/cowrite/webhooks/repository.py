"""SQL for webhooks and their delivery outbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.models import Webhook, WebhookDelivery

_SUBSCRIBERS = select(Webhook.id, Webhook.url, Webhook.secret, Webhook.events).where(
    Webhook.workspace_id == bindparam("workspace_id"), Webhook.active.is_(True)
)
_SENT_SINCE = (
    select(WebhookDelivery.id)
    .where(
        WebhookDelivery.subject == bindparam("subject"),
        WebhookDelivery.event == bindparam("event"),
        WebhookDelivery.created_at >= bindparam("since"),
    )
    .limit(1)
)


@dataclass(frozen=True, slots=True)
class Subscriber:
    """An active webhook as a delivery needs it."""

    id: uuid.UUID
    url: str
    secret: str


async def subscribed(
    session: AsyncSession, workspace_id: uuid.UUID, event: str
) -> list[Subscriber]:
    """The active webhooks of a workspace that want `event`."""
    rows = await session.execute(_SUBSCRIBERS, {"workspace_id": workspace_id})
    return [Subscriber(row.id, row.url, row.secret) for row in rows if event in row.events]


async def sent_since(session: AsyncSession, subject: str, event: str, since: datetime) -> bool:
    found = await session.execute(_SENT_SINCE, {"subject": subject, "event": event, "since": since})
    return found.first() is not None


async def count_in_workspace(session: AsyncSession, workspace_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count()).select_from(Webhook).where(Webhook.workspace_id == workspace_id)
        )
        or 0
    )


async def in_workspace(session: AsyncSession, workspace_id: uuid.UUID) -> list[Webhook]:
    rows = await session.scalars(
        select(Webhook)
        .where(Webhook.workspace_id == workspace_id)
        .order_by(Webhook.created_at, Webhook.id)
    )
    return list(rows)


async def webhook(session: AsyncSession, webhook_id: uuid.UUID) -> Webhook | None:
    return await session.get(Webhook, webhook_id)


async def deliveries(
    session: AsyncSession, webhook_id: uuid.UUID, limit: int
) -> list[WebhookDelivery]:
    rows = await session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(rows)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery this process took for one attempt, with what sending it needs."""

    id: uuid.UUID
    webhook_id: uuid.UUID
    event: str
    body: str
    attempt: int
    created_at: datetime
    url: str
    secret: str


async def claim_due(
    session: AsyncSession, now: datetime, lease_until: datetime, limit: int
) -> list[Claimed]:
    """Take up to `limit` due deliveries of active webhooks: each is leased until `lease_until`
    (a process that dies mid-send leaves it to be claimed again then). Rows another process
    holds are skipped on PostgreSQL; SQLite's single writer makes the claim exclusive."""
    rows = (
        await session.execute(
            select(
                WebhookDelivery.id,
                WebhookDelivery.webhook_id,
                WebhookDelivery.event,
                WebhookDelivery.body,
                WebhookDelivery.attempt,
                WebhookDelivery.created_at,
                Webhook.url,
                Webhook.secret,
            )
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                Webhook.active.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=WebhookDelivery)
        )
    ).all()
    if not rows:
        return []
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id.in_([row.id for row in rows]))
        .values(next_attempt_at=lease_until, attempt=WebhookDelivery.attempt + 1)
    )
    return [
        Claimed(
            id=row.id,
            webhook_id=row.webhook_id,
            event=row.event,
            body=row.body,
            attempt=row.attempt + 1,
            created_at=row.created_at,
            url=row.url,
            secret=row.secret,
        )
        for row in rows
    ]


async def finish(
    session: AsyncSession,
    delivery_id: uuid.UUID,
    *,
    status: str,
    status_code: int | None,
    error: str | None,
    response_body: str | None,
    next_attempt_at: datetime | None = None,
    delivered_at: datetime | None = None,
) -> None:
    values: dict[str, object] = {
        "status": status,
        "status_code": status_code,
        "error": error,
        "response_body": response_body,
        "delivered_at": delivered_at,
    }
    if next_attempt_at is not None:
        values["next_attempt_at"] = next_attempt_at
    await session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending")
        .values(**values)
    )


async def turn_off(
    session: AsyncSession, webhook_id: uuid.UUID, reason: str
) -> tuple[uuid.UUID, str] | None:
    """Turn an active webhook off; (workspace_id, url) when this call turned it off, None when
    it was off already (or is gone), so its admins hear of it once."""
    found = (
        await session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id, Webhook.active.is_(True))
            .values(active=False, disabled_reason=reason[:200])
            .returning(Webhook.workspace_id, Webhook.url)
        )
    ).first()
    return None if found is None else (found[0], found[1])
