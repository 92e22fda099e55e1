"""The delivery worker of a serving process: claims due deliveries, sends each in its own task
(a hanging receiver only holds its own slot), and records the outcome or the next retry.

Outcomes are written in the same transaction that claims the next batch: one write per round,
not one per delivery, and rounds come at most every `webhooks_record_interval_seconds` (under
load, one round records many outcomes). An outcome lost with a crash only means that delivery is
sent again once its lease runs out (at least once, never lost). Deliveries this process queued
come to it leased at their commit (`take`), without a claim (see `events`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.db import unit_of_work
from cowrite.kit.backoff import backoff_delay
from cowrite.kit.clock import utcnow
from cowrite.kit.events import WebhookTurnedOff
from cowrite.kit.tasks import raise_if_cancelling
from cowrite.state import AppState
from cowrite.webhooks import repository
from cowrite.webhooks.events import add_waker, remove_waker
from cowrite.webhooks.repository import Claimed
from cowrite.webhooks.sender import Outcome, send

log = logging.getLogger(__name__)


class DeliveryWorker:
    def __init__(self, state: AppState) -> None:
        self.state = state
        settings = state.settings
        self.concurrency = max(1, settings.webhooks_concurrency)
        self.timeout = settings.webhooks_timeout_seconds
        self.wakeup = asyncio.Event()
        self.sending: set[asyncio.Task[None]] = set()
        self.outcomes: list[tuple[Claimed, Outcome]] = []
        # Taken at commit, waiting for a free slot.
        self.waiting: deque[Claimed] = deque()
        self.at_once = settings.webhooks_send_at_once
        self.record_interval = settings.webhooks_record_interval_seconds
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,
            trust_env=False,
            limits=httpx.Limits(max_connections=self.concurrency * 2),
        )
        self._task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        self.wakeup.set()

    # -- deliveries leased at enqueue (events.Taker) ----------------------------------------

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.timeout + 30)

    def has_room(self) -> bool:
        """Take more at commit only while they would start soon (well within their lease)."""
        return self.at_once and len(self.waiting) < self.concurrency * 4

    def take(self, claimed: list[Claimed]) -> None:
        self.waiting.extend(claimed)
        self._fill()

    def _fill(self) -> None:
        while self.waiting and len(self.sending) < self.concurrency:
            self._start(self.waiting.popleft())

    def _start(self, item: Claimed) -> None:
        task = asyncio.create_task(self._deliver(item))
        self.sending.add(task)
        task.add_done_callback(self._sent)

    async def start(self) -> None:
        add_waker(self.wake, self)
        self._task = asyncio.create_task(self._run(), name="cowrite-webhook-deliveries")

    async def close(self) -> None:
        remove_waker(self.wake, self)
        tasks = [task for task in (self._task, *self.sending) if task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.aclose()

    async def _run(self) -> None:
        poll = self.state.settings.webhooks_poll_seconds
        last = 0.0
        while True:
            raise_if_cancelling()  # a cancellation some call swallowed still ends the loop
            # Rounds no closer than the interval: outcomes that finish meanwhile share one.
            pause = last + self.record_interval - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
            last = time.monotonic()
            self.wakeup.clear()
            try:
                claimed = await self._round()
            except Exception:
                raise_if_cancelling()
                log.exception("webhook delivery round failed")
                claimed = []
            for item in claimed:
                self._start(item)
            if claimed and self._free() > 0:
                continue  # there may be more due right now
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll):
                    await self.wakeup.wait()

    def _free(self) -> int:
        return self.concurrency - len(self.sending) - len(self.waiting)

    def _sent(self, task: asyncio.Task[None]) -> None:
        self.sending.discard(task)
        self._fill()  # a slot free: the next one taken at commit goes now
        self.wakeup.set()  # an outcome to record

    async def _round(self) -> list[Claimed]:
        """Record the outcomes so far and claim as many due deliveries as there are free slots,
        in one transaction."""
        outcomes, self.outcomes = self.outcomes, []
        slots = self._free()
        if not outcomes and slots <= 0:
            return []
        now = utcnow()
        turned_off: list[WebhookTurnedOff] = []
        async with unit_of_work(self.state.session_factory) as session:
            for item, outcome in outcomes:
                off = await self._record(session, item, outcome, now)
                if off is not None:
                    turned_off.append(off)
            claimed = []
            if slots > 0:
                claimed = await repository.claim_due(session, now, now + self.lease, slots)
        for event in turned_off:  # committed: now the admins may hear of it
            await self.state.events.emit(event)
        return claimed

    async def _turn_off(
        self, session: AsyncSession, item: Claimed, reason: str
    ) -> WebhookTurnedOff | None:
        found = await repository.turn_off(session, item.webhook_id, reason)
        if found is None:
            return None  # off already: its admins heard then
        log.warning("webhook %s turned off: %s", item.webhook_id, reason)
        workspace_id, url = found
        return WebhookTurnedOff(item.webhook_id, workspace_id, url, reason)

    async def _deliver(self, item: Claimed) -> None:
        try:
            outcome = await send(
                self.client,
                item.url,
                item.secret,
                delivery_id=str(item.id),
                event=item.event,
                body=item.body,
                allow_private=self.state.settings.webhooks_allow_private,
            )
        except Exception as exc:
            raise_if_cancelling()
            log.exception("webhook delivery %s failed unexpectedly", item.id)
            outcome = Outcome(None, f"Internal error: {type(exc).__name__}", None)
        self.outcomes.append((item, outcome))

    async def _record(
        self, session: AsyncSession, item: Claimed, outcome: Outcome, now: datetime
    ) -> WebhookTurnedOff | None:
        """Write one delivery's outcome; the turn-off to announce when it turned its webhook off."""
        settings = self.state.settings
        if outcome.delivered:
            await repository.finish(
                session,
                item.id,
                status="delivered",
                status_code=outcome.status_code,
                error=None,
                response_body=outcome.response_body,
                delivered_at=now,
            )
            return None
        if outcome.gone:
            await repository.finish(
                session,
                item.id,
                status="failed",
                status_code=outcome.status_code,
                error="The receiver answered 410 Gone; the webhook was turned off",
                response_body=outcome.response_body,
            )
            return await self._turn_off(session, item, "The receiver answered 410 Gone")
        delay = backoff_delay(
            item.attempt,
            settings.webhooks_retry_first_seconds,
            settings.webhooks_retry_max_seconds,
        )
        retry_at = now + timedelta(seconds=delay)
        give_up_at = item.created_at + timedelta(seconds=settings.webhooks_retry_for_seconds)
        if retry_at > give_up_at:
            await repository.finish(
                session,
                item.id,
                status="failed",
                status_code=outcome.status_code,
                error=outcome.error,
                response_body=outcome.response_body,
            )
            return await self._turn_off(session, item, "Deliveries kept failing; retries ran out")
        await repository.finish(
            session,
            item.id,
            status="pending",
            status_code=outcome.status_code,
            error=outcome.error,
            response_body=outcome.response_body,
            next_attempt_at=retry_at,
        )
        return None
