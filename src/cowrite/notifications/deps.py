"""Typed authorization for routes with a `{notification_id}`: only its recipient sees it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from cowrite.auth.deps import CurrentUser
from cowrite.deps import DbSession
from cowrite.kit.errors import NotFound
from cowrite.models import Notification
from cowrite.notifications import repository


async def own_notification(
    notification_id: uuid.UUID, principal: CurrentUser, session: DbSession
) -> Notification:
    """Another person's notification does not exist for the caller (404)."""
    found = await repository.own(session, principal.user_id, notification_id)
    if found is None:
        raise NotFound("Notification not found", code="not_found")
    return found


OwnNotification = Annotated[Notification, Depends(own_notification)]
