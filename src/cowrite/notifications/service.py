"""Who gets which notification, following, read state and settings.

The `notify_*` functions take plain ids and a session, decide the recipients *now* (members who
may see the document, never the actor, muted documents send mentions only), write the rows and
return the new notifications; the dispatcher commits and pushes them. Each runs off the
request's path (see `dispatch`).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.clock import utcnow
from cowrite.kit.pagination import Page, decode_time_cursor, next_cursor_for
from cowrite.models import Notification, NotificationPreferences
from cowrite.notifications import repository
from cowrite.notifications.kinds import THROUGH_MUTE, Kind, email_settings
from cowrite.notifications.schemas import NotificationOut, NotificationSettingsOut

EXCERPT_CHARS = 280


@dataclass(frozen=True, slots=True)
class Policy:
    """What delivery needs from the settings."""

    mail_enabled: bool = False
    default_delay_minutes: int = 5
    update_window: timedelta = timedelta(minutes=10)


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"


async def _write(
    session: AsyncSession,
    policy: Policy,
    recipients: Iterable[uuid.UUID],
    *,
    kind: Kind,
    actor_id: uuid.UUID | None,
    workspace_id: uuid.UUID,
    document_id: uuid.UUID | None,
    comment_id: uuid.UUID | None,
    title: str,
    excerpt: str,
) -> list[Notification]:
    recipients = sorted(set(recipients), key=str)
    if not recipients:
        return []
    now = utcnow()
    prefs = await repository.preferences(session, recipients) if policy.mail_enabled else {}
    made = []
    for user_id in recipients:
        mail_due_at = None
        if policy.mail_enabled:
            pref = prefs.get(user_id)
            if email_settings(pref.email if pref else {})[kind]:
                delay = pref.email_delay_minutes if pref else policy.default_delay_minutes
                mail_due_at = now + timedelta(minutes=delay)
        made.append(
            Notification(
                user_id=user_id,
                kind=kind.value,
                actor_id=actor_id,
                workspace_id=workspace_id,
                document_id=document_id,
                comment_id=comment_id,
                title=title[:500],
                excerpt=_excerpt(excerpt),
                created_at=now,
                updated_at=now,
                mail_due_at=mail_due_at,
            )
        )
    session.add_all(made)
    await session.flush()
    return made


async def _document_recipients(
    session: AsyncSession,
    document_id: uuid.UUID,
    candidates: Collection[uuid.UUID],
    actor_id: uuid.UUID | None,
    kind: Kind,
    *,
    followers_only: bool = False,
) -> tuple[uuid.UUID, str, set[uuid.UUID]] | None:
    """(workspace, title, recipients) for a notification about a document: the candidates who
    may see it now, not the actor, and not those who muted it (unless the kind goes through).
    `followers_only`: the candidates were read from the document's followers in this same
    transaction, so none of them muted it."""
    found = await repository.document_title(session, document_id)
    if found is None:
        return None
    workspace_id, title = found
    wanted = set(candidates) - {actor_id}
    if kind not in THROUGH_MUTE and not followers_only:
        following = await repository.subscriptions(session, document_id, wanted)
        wanted = {user_id for user_id in wanted if following.get(user_id, True)}
    visible = await repository.members_who_see(session, workspace_id, document_id, wanted)
    return workspace_id, title, visible


async def _about_comment(
    session: AsyncSession,
    policy: Policy,
    kind: Kind,
    candidates: Collection[uuid.UUID],
    document_id: uuid.UUID,
    comment_id: uuid.UUID,
    actor_id: uuid.UUID,
    excerpt: str,
    *,
    followers_only: bool = False,
) -> list[Notification]:
    """Notify those of `candidates` who may see the document about one of its comments."""
    found = await _document_recipients(
        session, document_id, candidates, actor_id, kind, followers_only=followers_only
    )
    if found is None:
        return []
    workspace_id, title, recipients = found
    return await _write(
        session,
        policy,
        recipients,
        kind=kind,
        actor_id=actor_id,
        workspace_id=workspace_id,
        document_id=document_id,
        comment_id=comment_id,
        title=title,
        excerpt=excerpt,
    )


async def notify_mention(
    session: AsyncSession,
    policy: Policy,
    *,
    document_id: uuid.UUID,
    comment_id: uuid.UUID,
    actor_id: uuid.UUID,
    mentioned_user_ids: Collection[uuid.UUID],
    excerpt: str,
) -> list[Notification]:
    """People mentioned in a comment; a mention of someone who cannot see the document makes
    nothing (and tells nobody so)."""
    return await _about_comment(
        session,
        policy,
        Kind.MENTION,
        mentioned_user_ids,
        document_id,
        comment_id,
        actor_id,
        excerpt,
    )


async def notify_reply(
    session: AsyncSession,
    policy: Policy,
    *,
    document_id: uuid.UUID,
    comment_id: uuid.UUID,
    actor_id: uuid.UUID,
    participant_ids: Collection[uuid.UUID],
    excerpt: str,
    skip_user_ids: Collection[uuid.UUID] = (),
) -> list[Notification]:
    """Those who wrote in a thread, about a reply to it; `skip_user_ids` (those the same reply
    mentions) get the mention instead."""
    candidates = set(participant_ids) - set(skip_user_ids)
    return await _about_comment(
        session, policy, Kind.REPLY, candidates, document_id, comment_id, actor_id, excerpt
    )


async def notify_thread_reply(
    session: AsyncSession,
    policy: Policy,
    *,
    thread_id: uuid.UUID,
    document_id: uuid.UUID,
    comment_id: uuid.UUID,
    actor_id: uuid.UUID,
    excerpt: str,
    skip_user_ids: Collection[uuid.UUID] = (),
) -> list[Notification]:
    """A reply in a thread: those who wrote in it hear of it (they follow the thread)."""
    participants = await repository.thread_participants(session, thread_id)
    return await notify_reply(
        session,
        policy,
        document_id=document_id,
        comment_id=comment_id,
        actor_id=actor_id,
        participant_ids=participants,
        excerpt=excerpt,
        skip_user_ids=skip_user_ids,
    )


async def notify_comment(
    session: AsyncSession,
    policy: Policy,
    *,
    document_id: uuid.UUID,
    comment_id: uuid.UUID,
    actor_id: uuid.UUID,
    excerpt: str,
    skip_user_ids: Collection[uuid.UUID] = (),
) -> list[Notification]:
    """The followers of a document, about a new thread on it; the commenter follows it now."""
    following = await repository.subscriptions(session, document_id)
    if actor_id not in following:
        await repository.follow_if_new(session, actor_id, document_id)
    followers = {user_id for user_id, on in following.items() if on} - set(skip_user_ids)
    return await _about_comment(
        session,
        policy,
        Kind.COMMENT,
        followers,
        document_id,
        comment_id,
        actor_id,
        excerpt,
        followers_only=True,
    )


async def notify_document_updated(
    session: AsyncSession,
    policy: Policy,
    *,
    document_id: uuid.UUID,
    actor_id: uuid.UUID,
) -> list[Notification]:
    """Someone edited a document: they follow it from now on, and its other followers hear of
    it at most once per window (a second edit within it folds into the first notification,
    which then names the latest editor). A creator follows from the create's own transaction."""
    following = await repository.subscriptions(session, document_id)
    if actor_id not in following:  # else they follow already, or muted it: either way it stays
        await repository.follow_if_new(session, actor_id, document_id)
    followers = {user_id for user_id, on in following.items() if on}
    found = await _document_recipients(
        session, document_id, followers, actor_id, Kind.DOCUMENT_UPDATED, followers_only=True
    )
    if found is None:
        return []
    workspace_id, title, recipients = found
    if not recipients:
        return []
    now = utcnow()
    recent = await repository.recent_of_kind(
        session, document_id, Kind.DOCUMENT_UPDATED.value, now - policy.update_window
    )
    actor_name = await repository.user_name(session, actor_id) or "Someone"
    excerpt = f"{actor_name} edited {title}"
    for user_id in recipients & recent.keys():
        folded = recent[user_id]
        folded.actor_id, folded.excerpt, folded.title, folded.updated_at = (
            actor_id,
            excerpt,
            title,
            now,
        )
    return await _write(
        session,
        policy,
        recipients - recent.keys(),
        kind=Kind.DOCUMENT_UPDATED,
        actor_id=actor_id,
        workspace_id=workspace_id,
        document_id=document_id,
        comment_id=None,
        title=title,
        excerpt=excerpt,
    )


async def _membership_notice(
    session: AsyncSession,
    policy: Policy,
    kind: Kind,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    actor_id: uuid.UUID,
    role: str,
) -> list[Notification]:
    if user_id == actor_id:
        return []
    if not await repository.members_who_see(session, workspace_id, None, [user_id]):
        return []  # removed again, or the workspace is gone
    name = await repository.workspace_name(session, workspace_id) or "a workspace"
    actor_name = await repository.user_name(session, actor_id) or "Someone"
    if kind is Kind.ADDED_TO_WORKSPACE:
        excerpt = f"{actor_name} added you to {name} as {role}"
    else:
        excerpt = f"{actor_name} changed your role in {name} to {role}"
    return await _write(
        session,
        policy,
        [user_id],
        kind=kind,
        actor_id=actor_id,
        workspace_id=workspace_id,
        document_id=None,
        comment_id=None,
        title=name,
        excerpt=excerpt,
    )


async def notify_added_to_workspace(
    session: AsyncSession,
    policy: Policy,
    *,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    actor_id: uuid.UUID,
    role: str,
) -> list[Notification]:
    return await _membership_notice(
        session, policy, Kind.ADDED_TO_WORKSPACE, workspace_id, user_id, actor_id, role
    )


async def notify_role_changed(
    session: AsyncSession,
    policy: Policy,
    *,
    workspace_id: uuid.UUID,
    user_id: uuid.UUID,
    actor_id: uuid.UUID,
    role: str,
) -> list[Notification]:
    return await _membership_notice(
        session, policy, Kind.ROLE_CHANGED, workspace_id, user_id, actor_id, role
    )


async def notify_webhook_turned_off(
    session: AsyncSession,
    policy: Policy,
    *,
    workspace_id: uuid.UUID,
    url: str,
    reason: str,
) -> list[Notification]:
    """Deliveries turned a webhook off: every admin of its workspace hears, with why."""
    name = await repository.workspace_name(session, workspace_id) or "a workspace"
    return await _write(
        session,
        policy,
        await repository.admins(session, workspace_id),
        kind=Kind.WEBHOOK_TURNED_OFF,
        actor_id=None,
        workspace_id=workspace_id,
        document_id=None,
        comment_id=None,
        title=name,
        excerpt=f"The webhook to {url} was turned off. {reason}.",
    )


async def notify_document_shared(
    session: AsyncSession,
    policy: Policy,
    *,
    document_id: uuid.UUID,
    user_id: uuid.UUID,
    actor_id: uuid.UUID,
) -> list[Notification]:
    """Someone listed `user_id` on a document (a guest included)."""
    found = await _document_recipients(
        session, document_id, [user_id], actor_id, Kind.DOCUMENT_SHARED
    )
    if found is None:
        return []
    workspace_id, title, recipients = found
    actor_name = await repository.user_name(session, actor_id) or "Someone"
    return await _write(
        session,
        policy,
        recipients,
        kind=Kind.DOCUMENT_SHARED,
        actor_id=actor_id,
        workspace_id=workspace_id,
        document_id=document_id,
        comment_id=None,
        title=title,
        excerpt=f"{actor_name} shared {title} with you",
    )


# -- reading ----------------------------------------------------------------------------------


async def list_notifications(
    session: AsyncSession, user_id: uuid.UUID, *, unread: bool, limit: int, cursor: str | None
) -> Page[NotificationOut]:
    rows = await repository.page(
        session, user_id, unread=unread, limit=limit + 1, before=decode_time_cursor(cursor)
    )
    page, next_cursor = next_cursor_for(rows, limit, lambda row: (row[0].created_at, row[0].id))
    return Page(items=[NotificationOut.of(*row) for row in page], next_cursor=next_cursor)


async def view(session: AsyncSession, notification: Notification) -> NotificationOut:
    [(row, name)] = await repository.with_actor_names(session, [notification])
    return NotificationOut.of(row, name)


async def mark_read(session: AsyncSession, notification: Notification) -> NotificationOut:
    if notification.read_at is None:
        notification.read_at = utcnow()
        notification.mail_due_at = None
        await session.flush()
    return await view(session, notification)


# -- following --------------------------------------------------------------------------------


async def is_following(session: AsyncSession, user_id: uuid.UUID, document_id: uuid.UUID) -> bool:
    found = await repository.subscription(session, user_id, document_id)
    return found is not None and found.following


# -- settings ---------------------------------------------------------------------------------


def settings_view(
    pref: NotificationPreferences | None, default_delay: int
) -> NotificationSettingsOut:
    return NotificationSettingsOut(
        email=email_settings(pref.email if pref else {}),
        email_delay_minutes=pref.email_delay_minutes if pref else default_delay,
    )


async def get_settings(
    session: AsyncSession, user_id: uuid.UUID, default_delay: int
) -> NotificationSettingsOut:
    prefs = await repository.preferences(session, [user_id])
    return settings_view(prefs.get(user_id), default_delay)


async def update_settings(
    session: AsyncSession,
    user_id: uuid.UUID,
    default_delay: int,
    *,
    email: dict[Kind, bool] | None = None,
    email_delay_minutes: int | None = None,
) -> NotificationSettingsOut:
    pref = await session.get(NotificationPreferences, user_id, with_for_update=True)
    if pref is None:
        pref = NotificationPreferences(user_id=user_id, email={}, email_delay_minutes=default_delay)
        session.add(pref)
    if email:
        pref.email = {**pref.email, **{kind.value: on for kind, on in email.items()}}
    if email_delay_minutes is not None:
        pref.email_delay_minutes = email_delay_minutes
    pref.updated_at = utcnow()
    await session.flush()
    return settings_view(pref, default_delay)
