"""The background mailer: notifications still unread when due become one mail per person (a
digest when there are several) in the durable outbox, which is sent over SMTP with back-off.

Nothing here runs on a request's path, and an SMTP server that is away only delays mail: rows
stay in the outbox until a send succeeds (at least once; see `queue.claim`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import datetime, timedelta
from email.utils import parseaddr

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.kit.retry import backoff_seconds
from cowrite.kit.tasks import raise_if_cancelling
from cowrite.models import Notification, OutgoingMail, User
from cowrite.notifications import repository
from cowrite.notifications.kinds import Kind, email_settings
from cowrite.notifications.mail import queue
from cowrite.notifications.mail.compose import Letter, compose
from cowrite.notifications.mail.smtp import SmtpTarget, parse_smtp_url, smtp_client
from cowrite.notifications.mail.unsubscribe import ALL, unsubscribe_token
from cowrite.notifications.schemas import NotificationOut
from cowrite.state import AppState

log = logging.getLogger(__name__)

MARK_EVERY = 50  # sent mails are marked in groups: a crash resends at most this many


def unsubscribe_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/api/v1/notifications/unsubscribe?token={token}"


class MailWorker:
    def __init__(self, state: AppState) -> None:
        settings = state.settings
        assert settings.smtp_url, "the mailer runs only with COWRITE_SMTP_URL"
        self.state = state
        self.settings = settings
        self.target: SmtpTarget = parse_smtp_url(settings.smtp_url)
        self.sender = parseaddr(settings.mail_from)[1] or settings.mail_from
        self._wake = asyncio.Event()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cowrite-mailer")

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake_at(self, when: datetime) -> None:
        """Look again at `when` (a notification comes due then), unless already sooner."""
        if self._timer_at is not None and self._timer_at <= when and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
        delay = max(0.0, (when - utcnow()).total_seconds())
        self._timer_at = when
        self._timer = asyncio.get_running_loop().call_later(delay, self._ring)

    def _ring(self) -> None:
        self._timer = self._timer_at = None
        self._wake.set()

    # -- the loop ---------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                busy = await self.queue_due() + await self.send_due()
                wait = 0.0 if busy else await self._idle_seconds()
            except Exception:
                raise_if_cancelling()
                log.exception("the mailer failed; trying again later")
                wait = self.settings.mail_poll_interval_seconds
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)

    async def _idle_seconds(self) -> float:
        async with unit_of_work(self.state.reader_factory) as session:
            moments = [await queue.next_due(session), await queue.next_attempt(session)]
        now = utcnow()
        wait = self.settings.mail_poll_interval_seconds
        for moment in moments:
            if moment is not None:
                wait = min(wait, max(0.0, (moment - now).total_seconds()))
        return wait

    # -- notifications that came due -> outbox ----------------------------------------------

    async def queue_due(self) -> int:
        """One outbox row per person with notifications due; how many rows were made."""
        now = utcnow()
        async with unit_of_work(self.state.session_factory) as session:
            users = await queue.users_with_mail_due(session, now, self.settings.mail_batch_size)
        made = 0
        for user_id in users:
            async with unit_of_work(self.state.session_factory) as session:
                pending = await queue.take_pending(session, user_id)
                mail = await self._mail_for(session, user_id, pending)
                if mail is not None:
                    session.add(mail)
                    made += 1
        return made

    async def _mail_for(
        self, session: AsyncSession, user_id: uuid.UUID, pending: list[Notification]
    ) -> OutgoingMail | None:
        user = await session.get(User, user_id)
        if user is None or not pending:
            return None
        prefs = await repository.preferences(session, [user_id])
        pref = prefs.get(user_id)
        switches = email_settings(pref.email if pref else {})
        wanted = [n for n in pending if switches[Kind(n.kind)]]
        seen = await repository.seen_among(session, user_id, [n.id for n in wanted])
        visible = [n for n in wanted if n.id in seen]
        if not visible:
            return None
        items = [
            NotificationOut.of(*row) for row in await repository.with_actor_names(session, visible)
        ]
        kinds = {item.kind.value for item in items}
        kind = kinds.pop() if len(kinds) == 1 else ALL
        token = unsubscribe_token(self.settings.resolved_secret_key, user_id, kind)
        letter = Letter(
            sender=self.settings.mail_from,
            recipient=user.email,
            recipient_name=user.full_name,
            items=items,
            public_url=self.settings.public_url,
            unsubscribe_url=unsubscribe_url(self.settings.public_url, token),
            unsubscribe_what=(
                "all notification emails" if kind == ALL else f"{kind.replace('_', ' ')} emails"
            ),
        )
        return OutgoingMail(
            user_id=user_id, recipient=user.email, message=compose(letter), next_attempt_at=utcnow()
        )

    # -- outbox -> SMTP -----------------------------------------------------------------------

    async def send_due(self) -> int:
        """Send what is due now over a few connections at once; how many mails were tried."""
        now = utcnow()
        lease = timedelta(seconds=self.settings.mail_lease_seconds)
        async with unit_of_work(self.state.session_factory) as session:
            mails = await queue.claim(session, now, lease, self.settings.mail_batch_size)
        if not mails:
            return 0
        lanes = max(1, min(self.settings.mail_connections, len(mails)))
        failures = await asyncio.gather(*(self._send(mails[lane::lanes]) for lane in range(lanes)))
        failed = sum(failures)
        if failed:
            log.warning("%d notification mails failed; they will be retried", failed)
        return len(mails)

    async def _send(self, mails: list[OutgoingMail]) -> int:
        """Send these over one connection, marking them as it goes; how many failed."""
        sent: list[int] = []  # sent, not marked yet
        delivered: set[int] = set()
        failed: dict[int, str] = {}
        error = "connection lost"
        try:
            async with self._client() as smtp:
                for mail in mails:
                    try:
                        await smtp.sendmail(self.sender, [mail.recipient], mail.message.encode())
                    except aiosmtplib.SMTPException as exc:
                        failed[mail.id] = repr(exc)
                        if not smtp.is_connected:
                            break
                        continue
                    sent.append(mail.id)
                    delivered.add(mail.id)
                    if len(sent) == MARK_EVERY:
                        await self._mark(sent, {}, mails)
                        sent = []
        except Exception as exc:  # could not connect, or the connection broke
            raise_if_cancelling()
            error = repr(exc)
        for mail in mails:  # not tried, or cut off mid-send
            if mail.id not in delivered and mail.id not in failed:
                failed[mail.id] = error
        await self._mark(sent, failed, mails)
        return len(failed)

    def _client(self) -> aiosmtplib.SMTP:
        return smtp_client(self.target, self.settings.mail_timeout_seconds)

    async def _mark(
        self, sent: list[int], failed: dict[int, str], mails: list[OutgoingMail]
    ) -> None:
        if not sent and not failed:
            return
        now = utcnow()
        attempts = {mail.id: mail.attempts for mail in mails}
        async with unit_of_work(self.state.session_factory) as session:
            await queue.mark_sent(session, sent, now)
            for mail_id, error in failed.items():
                tries = attempts[mail_id] + 1
                delay = backoff_seconds(
                    tries,
                    self.settings.mail_retry_base_seconds,
                    self.settings.mail_retry_max_seconds,
                )
                await queue.mark_failed(
                    session, mail_id, tries, now + timedelta(seconds=delay), error
                )
