"""/api/v1/notifications, document subscriptions, notification settings; start-up of delivery,
the mailer and the clean-up."""

from __future__ import annotations

from contextlib import AsyncExitStack
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Query
from fastapi.responses import HTMLResponse

from cowrite.auth.deps import CurrentUser
from cowrite.deps import DbSession, SettingsDep
from cowrite.documents.deps import DocumentViewer
from cowrite.kit.errors import NotFound
from cowrite.kit.pagination import Page, PageParams, page_params
from cowrite.notifications import repository, service
from cowrite.notifications.deps import OwnNotification
from cowrite.notifications.dispatch import NotificationDispatcher, NotificationsRead
from cowrite.notifications.kinds import Kind
from cowrite.notifications.mail.unsubscribe import ALL, read_unsubscribe_token
from cowrite.notifications.schemas import (
    NotificationOut,
    NotificationSettingsIn,
    NotificationSettingsOut,
    ReadAllIn,
    SubscriptionOut,
    UnreadCountOut,
    UnsubscribedOut,
    UpdatedOut,
)
from cowrite.notifications.tasks import start_notification_cleanup
from cowrite.presence.push import UserPush
from cowrite.state import AppState
from cowrite.workspaces.outbox import PendingEvents

router = APIRouter(tags=["notifications"])

NOTIFICATIONS = "/api/v1/notifications"
SUBSCRIPTION = "/api/v1/documents/{document_id}/subscription"
SETTINGS = "/api/v1/users/me/notification-settings"


@router.get(NOTIFICATIONS, response_model=Page[NotificationOut])
async def list_notifications(
    principal: CurrentUser,
    session: DbSession,
    paging: Annotated[PageParams, Depends(page_params)],
    unread: bool = False,
) -> Page[NotificationOut]:
    """Newest first; `unread=true` leaves out what was read."""
    return await service.list_notifications(
        session, principal.user_id, unread=unread, limit=paging.limit, cursor=paging.cursor
    )


@router.get(f"{NOTIFICATIONS}/unread-count", response_model=UnreadCountOut)
async def unread_count(principal: CurrentUser, session: DbSession) -> UnreadCountOut:
    return UnreadCountOut(count=await repository.unread_count(session, principal.user_id))


@router.post(f"{NOTIFICATIONS}/read-all", response_model=UpdatedOut)
async def read_all(
    principal: CurrentUser,
    session: DbSession,
    outbox: PendingEvents,
    body: Annotated[ReadAllIn | None, Body()] = None,
    before: Annotated[datetime | None, Query()] = None,
) -> UpdatedOut:
    """Mark every unread notification read (those made up to `before`, when given)."""
    cutoff = before or (body.before if body else None)
    updated = await repository.mark_all_read(session, principal.user_id, cutoff)
    if updated:
        outbox.add(NotificationsRead(principal.user_id))
    return UpdatedOut(updated=updated)


@router.post(f"{NOTIFICATIONS}/{{notification_id}}/read", response_model=NotificationOut)
async def read_one(
    notification: OwnNotification, session: DbSession, outbox: PendingEvents
) -> NotificationOut:
    was_unread = notification.read_at is None
    out = await service.mark_read(session, notification)
    if was_unread:
        outbox.add(NotificationsRead(notification.user_id))
    return out


# -- following ------------------------------------------------------------------------------


@router.get(SUBSCRIPTION, response_model=SubscriptionOut)
async def get_subscription(access: DocumentViewer, session: DbSession) -> SubscriptionOut:
    following = await service.is_following(session, access.principal.user_id, access.document.id)
    return SubscriptionOut(following=following)


@router.put(SUBSCRIPTION, response_model=SubscriptionOut)
async def follow(access: DocumentViewer, session: DbSession) -> SubscriptionOut:
    """Follow the document: comments and edits by others notify you."""
    await repository.set_following(session, access.principal.user_id, access.document.id, True)
    return SubscriptionOut(following=True)


@router.delete(SUBSCRIPTION, response_model=SubscriptionOut)
async def mute(access: DocumentViewer, session: DbSession) -> SubscriptionOut:
    """Mute the document: only mentions of you still notify you."""
    await repository.set_following(session, access.principal.user_id, access.document.id, False)
    return SubscriptionOut(following=False)


# -- settings -------------------------------------------------------------------------------


@router.get(SETTINGS, response_model=NotificationSettingsOut)
async def get_settings(
    principal: CurrentUser, session: DbSession, settings: SettingsDep
) -> NotificationSettingsOut:
    return await service.get_settings(
        session, principal.user_id, settings.notification_email_delay_minutes
    )


@router.patch(SETTINGS, response_model=NotificationSettingsOut)
async def update_settings(
    body: NotificationSettingsIn, principal: CurrentUser, session: DbSession, settings: SettingsDep
) -> NotificationSettingsOut:
    return await service.update_settings(
        session,
        principal.user_id,
        settings.notification_email_delay_minutes,
        email=body.email,
        email_delay_minutes=body.email_delay_minutes,
    )


# -- one-click unsubscribe (from a mail; the signed token is the credential) -----------------

UNSUBSCRIBE = f"{NOTIFICATIONS}/unsubscribe"
Token = Annotated[str, Query(min_length=1, max_length=200)]


@router.post(UNSUBSCRIBE, response_model=UnsubscribedOut)
async def unsubscribe(token: Token, session: DbSession, settings: SettingsDep) -> UnsubscribedOut:
    """RFC 8058 one-click: turns off the email of the kind the link was made for."""
    found = read_unsubscribe_token(settings.resolved_secret_key, token)
    if found is None or (found[1] != ALL and found[1] not in {k.value for k in Kind}):
        raise NotFound("Unknown or invalid unsubscribe link", code="not_found")
    user_id, kind = found
    if await repository.user_name(session, user_id) is None:
        raise NotFound("Unknown or invalid unsubscribe link", code="not_found")
    switches = {k: False for k in Kind} if kind == ALL else {Kind(kind): False}
    await service.update_settings(
        session, user_id, settings.notification_email_delay_minutes, email=switches
    )
    return UnsubscribedOut(kind=kind, email=False)


@router.get(UNSUBSCRIBE, response_class=HTMLResponse)
async def unsubscribe_page(token: Token, settings: SettingsDep) -> HTMLResponse:
    """A page with one button: a link opened (or prefetched by a mail scanner) changes nothing."""
    if read_unsubscribe_token(settings.resolved_secret_key, token) is None:
        raise NotFound("Unknown or invalid unsubscribe link", code="not_found")
    page = (
        "<!doctype html><html><body style='font-family:sans-serif'>"
        "<form method='post'><p>Stop these notification emails?</p>"
        "<button type='submit'>Unsubscribe</button></form></body></html>"
    )
    return HTMLResponse(page)


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    """Delivery (with live pushes through presence), the mailer when SMTP is set, clean-up."""
    push = None
    if state.presence is not None:
        push = UserPush(state.presence.manager, state.broker)
        await push.start()
        stack.push_async_callback(push.close)
    dispatcher = NotificationDispatcher(state, push)
    if state.settings.smtp_url:
        from cowrite.notifications.mail.worker import MailWorker

        mailer = MailWorker(state)
        await mailer.start()
        stack.push_async_callback(mailer.close)
        dispatcher.mailer = mailer
    await dispatcher.start()
    stack.push_async_callback(dispatcher.close)
    state.notifications = dispatcher
    await start_notification_cleanup(state, stack)
