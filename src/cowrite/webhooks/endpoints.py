"""/api/v1/workspaces/{id}/webhooks and /api/v1/webhooks/{id}; the delivery worker."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from cowrite.deps import DbSession, State
from cowrite.state import AppState
from cowrite.webhooks import repository, service
from cowrite.webhooks.deps import WebhookAdmin
from cowrite.webhooks.schemas import (
    DeliveryOut,
    WebhookCreate,
    WebhookCreated,
    WebhookOut,
    WebhookUpdate,
)
from cowrite.webhooks.worker import DeliveryWorker
from cowrite.workspaces.deps import WorkspaceAdmin

router = APIRouter(tags=["webhooks"])


@router.post(
    "/api/v1/workspaces/{workspace_id}/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookCreated,
)
async def create_webhook(
    body: WebhookCreate, access: WorkspaceAdmin, state: State, session: DbSession
) -> WebhookCreated:
    webhook = await service.create(
        state.settings,
        session,
        access.workspace.id,
        access.principal.user_id,
        body.url,
        body.events,
    )
    return WebhookCreated.model_validate(webhook)


@router.get("/api/v1/workspaces/{workspace_id}/webhooks", response_model=list[WebhookOut])
async def list_webhooks(access: WorkspaceAdmin, session: DbSession) -> list[WebhookOut]:
    hooks = await repository.in_workspace(session, access.workspace.id)
    return [WebhookOut.model_validate(hook) for hook in hooks]


@router.get("/api/v1/webhooks/{webhook_id}", response_model=WebhookOut)
async def get_webhook(access: WebhookAdmin) -> WebhookOut:
    return WebhookOut.model_validate(access.webhook)


@router.patch("/api/v1/webhooks/{webhook_id}", response_model=WebhookOut)
async def update_webhook(
    body: WebhookUpdate, access: WebhookAdmin, state: State, session: DbSession
) -> WebhookOut:
    webhook = await service.update(
        state.settings,
        session,
        access.webhook,
        url=body.url,
        events=body.events,
        active=body.active,
    )
    return WebhookOut.model_validate(webhook)


@router.delete("/api/v1/webhooks/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(access: WebhookAdmin, session: DbSession) -> Response:
    await session.delete(access.webhook)
    await session.flush()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/v1/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut])
async def list_deliveries(
    access: WebhookAdmin,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[DeliveryOut]:
    """The most recent deliveries first."""
    rows = await repository.deliveries(session, access.webhook.id, limit)
    return [DeliveryOut.model_validate(row) for row in rows]


@router.post(
    "/api/v1/webhooks/{webhook_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
)
async def send_test_event(access: WebhookAdmin, session: DbSession) -> DeliveryOut:
    """Queue a `webhook.test` delivery to this webhook alone."""
    delivery = await service.send_test(session, access.webhook, access.principal.user_id)
    return DeliveryOut.model_validate(delivery)


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    """Send queued deliveries in the background for as long as the app lives."""
    worker = DeliveryWorker(state)
    await worker.start()
    stack.push_async_callback(worker.close)
