"""From domain events to notifications, off the request's path (`state.notifications`).

Events arrive once their change is committed (the post-commit outbox, or the co-editing log
after it saved); handlers only queue a job. One worker runs the jobs, each in its own
transaction, then pushes each new notification and the recipient's unread count to every
`/ws` connection of theirs, in any process. A change in who may see what (heard by every
process) gives the people it concerns their count again, each process to its own connections.
Other features call `notify_mention`, `notify_reply` and `notify_comment` the same way: after
their commit, one call, nothing awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.db import unit_of_work
from cowrite.kit.events import (
    CommentPosted,
    DocumentAccessChanged,
    DocumentEdited,
    DocumentShared,
    DocumentTrashed,
    MemberAdded,
    MemberRoleChanged,
    MembershipChanged,
    WebhookTurnedOff,
    WorkspaceDeleted,
)
from cowrite.kit.tasks import raise_if_cancelling
from cowrite.models import Notification
from cowrite.notifications import repository, service
from cowrite.notifications.schemas import NotificationOut
from cowrite.notifications.service import Policy
from cowrite.presence.push import UserPush
from cowrite.state import AppState

if TYPE_CHECKING:
    from cowrite.notifications.mail.worker import MailWorker

log = logging.getLogger(__name__)

Job = Callable[[AsyncSession], Awaitable[list[Notification]]]
# Whose view of their notifications may have changed, read in the job's transaction.
Concerned = Callable[[AsyncSession], Awaitable[set[uuid.UUID]]]

RETRIES = 3


def notification_frame(out: NotificationOut) -> str:
    return orjson.dumps(
        {"type": "notification", "notification": out.model_dump(mode="json")}
    ).decode()


def unread_count_frame(count: int) -> str:
    return orjson.dumps({"type": "unread_count", "count": count}).decode()


async def _nothing(_session: AsyncSession) -> list[Notification]:
    return []


async def _only(people: set[uuid.UUID], _session: AsyncSession) -> set[uuid.UUID]:
    return people


@dataclass(frozen=True, slots=True)
class NotificationsRead:
    """A person's read state changed (committed): their tabs get the new unread count."""

    user_id: uuid.UUID


class NotificationDispatcher:
    def __init__(self, state: AppState, push: UserPush | None = None) -> None:
        self.state = state
        settings = state.settings
        self.policy = Policy(
            mail_enabled=bool(settings.smtp_url),
            default_delay_minutes=settings.notification_email_delay_minutes,
            update_window=timedelta(seconds=settings.notification_update_window_seconds),
        )
        self.push = push
        self.mailer: MailWorker | None = None  # set at start-up when SMTP is configured
        self._coalesce = settings.notification_edit_coalesce_seconds
        self._edits: dict[tuple[uuid.UUID, uuid.UUID], float] = {}
        self._queue: asyncio.Queue[tuple[Job, uuid.UUID | None, Concerned | None]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._closed = False

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        events = self.state.events
        events.subscribe(DocumentEdited, self._on_document_edited)
        events.subscribe(CommentPosted, self._on_comment_posted)
        events.subscribe(MemberAdded, self._on_member_added)
        events.subscribe(MemberRoleChanged, self._on_role_changed)
        events.subscribe(DocumentShared, self._on_document_shared)
        events.subscribe(NotificationsRead, self._on_read)
        events.subscribe(WebhookTurnedOff, self._on_webhook_turned_off)
        events.subscribe(MembershipChanged, self._on_membership_changed)
        events.subscribe(WorkspaceDeleted, self._on_workspace_deleted)
        events.subscribe(DocumentAccessChanged, self._on_document_access_changed)
        events.subscribe(DocumentTrashed, self._on_document_access_changed)
        self._worker = asyncio.create_task(self._run(), name="cowrite-notifications")

    async def close(self, within: float = 5.0) -> None:
        """Stop taking work; finish what is queued (for a while), then stop the worker."""
        self._closed = True
        events = self.state.events
        events.unsubscribe(DocumentEdited, self._on_document_edited)
        events.unsubscribe(CommentPosted, self._on_comment_posted)
        events.unsubscribe(MemberAdded, self._on_member_added)
        events.unsubscribe(MemberRoleChanged, self._on_role_changed)
        events.unsubscribe(DocumentShared, self._on_document_shared)
        events.unsubscribe(NotificationsRead, self._on_read)
        events.unsubscribe(WebhookTurnedOff, self._on_webhook_turned_off)
        events.unsubscribe(MembershipChanged, self._on_membership_changed)
        events.unsubscribe(WorkspaceDeleted, self._on_workspace_deleted)
        events.unsubscribe(DocumentAccessChanged, self._on_document_access_changed)
        events.unsubscribe(DocumentTrashed, self._on_document_access_changed)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), within)
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    async def idle(self) -> None:
        """Until every job queued so far is done (tests and the CLI wait on this)."""
        await self._queue.join()

    # -- what other features call -----------------------------------------------------------

    def notify_mention(
        self,
        *,
        document_id: uuid.UUID,
        comment_id: uuid.UUID,
        actor_id: uuid.UUID,
        mentioned_user_ids: Collection[uuid.UUID],
        excerpt: str,
    ) -> None:
        self._notify(
            service.notify_mention,
            document_id=document_id,
            comment_id=comment_id,
            actor_id=actor_id,
            mentioned_user_ids=tuple(mentioned_user_ids),
            excerpt=excerpt,
        )

    def notify_reply(
        self,
        *,
        document_id: uuid.UUID,
        comment_id: uuid.UUID,
        actor_id: uuid.UUID,
        participant_ids: Collection[uuid.UUID],
        excerpt: str,
        skip_user_ids: Collection[uuid.UUID] = (),
    ) -> None:
        self._notify(
            service.notify_reply,
            document_id=document_id,
            comment_id=comment_id,
            actor_id=actor_id,
            participant_ids=tuple(participant_ids),
            excerpt=excerpt,
            skip_user_ids=tuple(skip_user_ids),
        )

    def notify_comment(
        self,
        *,
        document_id: uuid.UUID,
        comment_id: uuid.UUID,
        actor_id: uuid.UUID,
        excerpt: str,
        skip_user_ids: Collection[uuid.UUID] = (),
    ) -> None:
        self._notify(
            service.notify_comment,
            document_id=document_id,
            comment_id=comment_id,
            actor_id=actor_id,
            excerpt=excerpt,
            skip_user_ids=tuple(skip_user_ids),
        )

    def push_unread_count(self, user_id: uuid.UUID) -> None:
        """After a read-state change is committed: every tab of the user gets the new count."""
        self._submit(_nothing, count_for=user_id)

    def recount_here(self, concerned: Concerned) -> None:
        """After a change in who may see what, which every process hears of: the connections
        in this process of those `concerned` get their count again (what they may see of
        their notifications changed with it)."""
        if self.push is not None:
            self._submit(_nothing, concerned=concerned)

    # -- domain events ----------------------------------------------------------------------

    def _on_document_edited(self, event: DocumentEdited) -> None:
        # A burst of edits by one author reports once per coalescing period; the database
        # folds what gets through into one notification per window and recipient.
        key = (event.document_id, event.actor_id)
        now = time.monotonic()
        if now - self._edits.get(key, -self._coalesce - 1) < self._coalesce:
            return
        self._edits[key] = now
        if len(self._edits) > 10_000:
            cutoff = now - self._coalesce
            self._edits = {k: at for k, at in self._edits.items() if at >= cutoff}
        self._notify(
            service.notify_document_updated,
            document_id=event.document_id,
            actor_id=event.actor_id,
        )

    def _on_comment_posted(self, event: CommentPosted) -> None:
        # Mentioned people hear of the mention only; a reply tells the thread's other writers;
        # a new thread tells the document's followers.
        mentioned = event.mentioned_user_ids
        ids = {
            "document_id": event.document_id,
            "comment_id": event.comment_id,
            "actor_id": event.actor_id,
        }
        if mentioned:
            self.notify_mention(mentioned_user_ids=mentioned, excerpt=event.excerpt, **ids)
        if event.parent_id is None:
            self.notify_comment(skip_user_ids=mentioned, excerpt=event.excerpt, **ids)
            return
        self._notify(
            service.notify_thread_reply,
            thread_id=event.thread_id,
            skip_user_ids=mentioned,
            excerpt=event.excerpt,
            document_id=event.document_id,
            comment_id=event.comment_id,
            actor_id=event.actor_id,
        )

    def _on_read(self, event: NotificationsRead) -> None:
        self.push_unread_count(event.user_id)

    def _on_member_added(self, event: MemberAdded) -> None:
        self._notify(
            service.notify_added_to_workspace,
            workspace_id=event.workspace_id,
            user_id=event.user_id,
            actor_id=event.actor_id,
            role=event.role,
        )

    def _on_role_changed(self, event: MemberRoleChanged) -> None:
        self._notify(
            service.notify_role_changed,
            workspace_id=event.workspace_id,
            user_id=event.user_id,
            actor_id=event.actor_id,
            role=event.role,
        )

    def _on_webhook_turned_off(self, event: WebhookTurnedOff) -> None:
        self._notify(
            service.notify_webhook_turned_off,
            workspace_id=event.workspace_id,
            url=event.url,
            reason=event.reason,
        )

    def _on_membership_changed(self, event: MembershipChanged) -> None:
        self.recount_here(partial(_only, {event.user_id}))

    def _on_workspace_deleted(self, event: WorkspaceDeleted) -> None:
        self.recount_here(partial(repository.people_of_workspace, workspace_id=event.workspace_id))

    def _on_document_access_changed(self, event: DocumentAccessChanged | DocumentTrashed) -> None:
        self.recount_here(partial(repository.unread_about_document, document_id=event.document_id))

    def _on_document_shared(self, event: DocumentShared) -> None:
        self._notify(
            service.notify_document_shared,
            document_id=event.document_id,
            user_id=event.user_id,
            actor_id=event.actor_id,
        )

    # -- the worker -------------------------------------------------------------------------

    def _notify(self, notify: Callable[..., Awaitable[list[Notification]]], **args: Any) -> None:
        """Queue one of the service's `notify_*` calls under this dispatcher's policy."""
        self._submit(partial(notify, policy=self.policy, **args))

    def _submit(
        self, job: Job, count_for: uuid.UUID | None = None, concerned: Concerned | None = None
    ) -> None:
        if self._closed:
            log.info("notification work arrived after shutdown began; dropped")
            return
        self._queue.put_nowait((job, count_for, concerned))

    async def _run(self) -> None:
        while True:
            job, count_for, concerned = await self._queue.get()
            try:
                await self._run_job(job, count_for, concerned)
            finally:
                self._queue.task_done()

    async def _run_job(
        self, job: Job, count_for: uuid.UUID | None, concerned: Concerned | None
    ) -> None:
        for attempt in range(1, RETRIES + 1):
            try:
                async with unit_of_work(self.state.session_factory) as session:
                    made = await job(session)
                    users = {n.user_id for n in made}
                    if count_for is not None:
                        users.add(count_for)
                    here = await self._online_here(session, concerned) - users
                    named = await repository.with_actor_names(session, made)
                    counts = await repository.unread_counts(session, users | here)
                break
            except Exception:
                raise_if_cancelling()
                if attempt == RETRIES:
                    log.exception("a notification job failed %d times; dropped", attempt)
                    return
                log.warning("a notification job failed; retrying", exc_info=True)
                await asyncio.sleep(0.5 * 2**attempt)
        self._deliver(named, counts, here)

    async def _online_here(
        self, session: AsyncSession, concerned: Concerned | None
    ) -> set[uuid.UUID]:
        if concerned is None or self.push is None:
            return set()
        push = self.push
        return {user_id for user_id in await concerned(session) if push.online_here(user_id)}

    def _deliver(
        self,
        named: list[tuple[Notification, str | None]],
        counts: dict[uuid.UUID, int],
        here: set[uuid.UUID],
    ) -> None:
        """Frames to every connection of the recipients, and to this process's connections
        only of those `here` (every process does the same for its own)."""
        frames: dict[uuid.UUID, list[str]] = {}
        due: datetime | None = None
        for notification, actor_name in named:
            out = NotificationOut.of(notification, actor_name)
            frames.setdefault(notification.user_id, []).append(notification_frame(out))
            if notification.mail_due_at is not None:
                due = min(due or notification.mail_due_at, notification.mail_due_at)
        if self.push is not None:
            for user_id, count in counts.items():
                send = self.push.send_here if user_id in here else self.push.send
                send(user_id, [*frames.get(user_id, []), unread_count_frame(count)])
        if due is not None and self.mailer is not None:
            self.mailer.wake_at(due)
