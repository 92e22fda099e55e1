"""Webhook rules: checked URLs, a secret shown once, test deliveries."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.config import Settings
from cowrite.kit.errors import Conflict, Unprocessable
from cowrite.models import Webhook, WebhookDelivery
from cowrite.webhooks import repository
from cowrite.webhooks.addresses import UnsafeUrl, resolve
from cowrite.webhooks.events import TEST_EVENT, add_delivery
from cowrite.webhooks.repository import Subscriber

SECRET_PREFIX = "whsec_"


async def check_url(settings: Settings, url: str) -> None:
    try:
        await resolve(url, allow_private=settings.webhooks_allow_private)
    except UnsafeUrl as exc:
        raise Unprocessable(str(exc), code="invalid_webhook_url") from None


def _unique(events: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(events))


async def create(
    settings: Settings,
    session: AsyncSession,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    url: str,
    events: Sequence[str],
) -> Webhook:
    await check_url(settings, url)
    most = settings.webhooks_per_workspace
    if await repository.count_in_workspace(session, workspace_id) >= most:
        raise Conflict(
            f"A workspace has at most {most} webhooks",
            code="too_many_webhooks",
        )
    webhook = Webhook(
        workspace_id=workspace_id,
        url=url,
        events=_unique(events),
        secret=SECRET_PREFIX + secrets.token_urlsafe(32),
        active=True,
        created_by=user_id,
    )
    session.add(webhook)
    await session.flush()
    return webhook


async def update(
    settings: Settings,
    session: AsyncSession,
    webhook: Webhook,
    *,
    url: str | None,
    events: Sequence[str] | None,
    active: bool | None,
) -> Webhook:
    if url is not None and url != webhook.url:
        await check_url(settings, url)
        webhook.url = url
    if events is not None:
        webhook.events = _unique(events)
    if active is not None and active != webhook.active:
        webhook.active = active
        webhook.disabled_reason = None if active else "Turned off by an admin"
    await session.flush()
    return webhook


async def send_test(session: AsyncSession, webhook: Webhook, user_id: uuid.UUID) -> WebhookDelivery:
    if not webhook.active:
        raise Conflict("The webhook is turned off; turn it on first", code="webhook_inactive")
    delivery = add_delivery(
        session,
        Subscriber(webhook.id, webhook.url, webhook.secret),
        webhook.workspace_id,
        TEST_EVENT,
        {"webhook_id": webhook.id, "requested_by": user_id},
    )
    await session.flush()
    return delivery
