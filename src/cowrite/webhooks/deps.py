"""Typed authorization for routes with a `{webhook_id}` in the path: admins of its workspace."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from cowrite.auth.deps import CurrentUser, Principal
from cowrite.deps import DbSession
from cowrite.kit.errors import NotFound
from cowrite.models import Webhook
from cowrite.webhooks import repository
from cowrite.workspaces.access import require_role, role_in_workspace
from cowrite.workspaces.roles import Role


@dataclass(frozen=True, slots=True)
class WebhookAccess:
    principal: Principal
    webhook: Webhook


async def webhook_admin(
    webhook_id: uuid.UUID, principal: CurrentUser, session: DbSession
) -> WebhookAccess:
    """404 unless the caller is a member of the webhook's live workspace; 403 below admin."""
    webhook = await repository.webhook(session, webhook_id)
    if webhook is None:
        raise NotFound("Webhook not found", code="not_found")
    role = await role_in_workspace(session, principal.user_id, webhook.workspace_id)
    require_role(role, Role.ADMIN, what="Webhook")
    return WebhookAccess(principal=principal, webhook=webhook)


WebhookAdmin = Annotated[WebhookAccess, Depends(webhook_admin)]
