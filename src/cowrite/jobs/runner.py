"""The one place background jobs run: claim, run the kind's handler, beat, record the outcome.

Handlers are registered by the features that own a kind (exports, imports). A job is claimed
from the database, so any serving process may run it; a job whose process dies is queued again
when its heartbeat goes stale, and fails visibly after `job_max_attempts` tries.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import orjson
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.db import unit_of_work
from cowrite.jobs import repository
from cowrite.kit.clock import utcnow
from cowrite.kit.errors import AppError
from cowrite.models import Job
from cowrite.state import AppState

log = logging.getLogger(__name__)

PUSH_CHANNEL = "jobs:progress"
# Progress frames to a user's sockets: at most this often per job.
PUSH_INTERVAL_SECONDS = 0.25
# How long a stopping server waits for the job loop to hand its job back.
STOP_SECONDS = 10.0


class JobFailed(Exception):
    """A handler's reason to fail its job, worded for the person who started it."""


class UserPush(Protocol):
    """Sends a JSON frame to every `/ws` connection of a user in this process."""

    def send_to_user(self, user_id: uuid.UUID, frame: str) -> int: ...


@dataclass(frozen=True, slots=True)
class JobOutcome:
    result: dict[str, Any] | None = None
    result_key: str | None = None


@dataclass
class JobContext:
    """What a handler sees of its job, and how it reports progress."""

    id: uuid.UUID
    kind: str
    owner_id: uuid.UUID
    workspace_id: uuid.UUID | None
    params: dict[str, Any]
    input_key: str | None
    attempt: int
    _runner: JobRunner = field(repr=False)
    progress_value: float = 0.0
    _pushed_at: float = 0.0

    def progress(self, fraction: float) -> None:
        """Record how far the job got (0..1); the heartbeat stores it, sockets hear of it."""
        self.progress_value = min(max(fraction, 0.0), 1.0)
        now = time.monotonic()
        if now - self._pushed_at >= PUSH_INTERVAL_SECONDS:
            self._pushed_at = now
            self._runner.push(self.owner_id, self.view("running"))

    def view(self, status: str, error: str | None = None) -> dict[str, Any]:
        progress = 1.0 if status == "done" else self.progress_value
        return {
            "id": str(self.id),
            "kind": self.kind,
            "status": status,
            "progress": progress,
            "error": error,
        }


Handler = Callable[[JobContext], Awaitable[JobOutcome]]


class JobRunner:
    """Runs queued jobs one at a time in this process; `submit` queues one."""

    def __init__(self, state: AppState, push: UserPush | None = None) -> None:
        self.state = state
        self.worker = state.process_id
        self._push = push
        self._handlers: dict[str, Handler] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._current: asyncio.Task[tuple[JobOutcome, str | None]] | None = None

    def register(self, kind: str, handler: Handler) -> None:
        self._handlers[kind] = handler

    async def submit(
        self,
        session: AsyncSession,
        *,
        kind: str,
        owner_id: uuid.UUID,
        workspace_id: uuid.UUID | None = None,
        params: dict[str, Any] | None = None,
        input_key: str | None = None,
    ) -> Job:
        """Queue a job in the caller's transaction; call `wake()` once it is committed."""
        if kind not in self._handlers:
            raise ValueError(f"no handler for job kind {kind!r}")
        job = Job(
            kind=kind,
            owner_id=owner_id,
            workspace_id=workspace_id,
            params=json.dumps(params or {}),
            input_key=input_key,
            status="queued",
            progress=0.0,
            attempts=0,
        )
        session.add(job)
        await session.flush()
        return job

    def wake(self) -> None:
        self._wake.set()

    # -- progress to the owner's sockets ---------------------------------------------------------

    def push(self, user_id: uuid.UUID, job: dict[str, Any]) -> None:
        frame = orjson.dumps({"type": "job_progress", "job": job}).decode()
        self._deliver(user_id, frame)
        payload = orjson.dumps({"user_id": str(user_id), "frame": frame})
        self.state.broker.publish_soon(PUSH_CHANNEL, payload)

    def _deliver(self, user_id: uuid.UUID, frame: str) -> None:
        if self._push is not None:
            self._push.send_to_user(user_id, frame)

    async def _on_pushed(self, message: bytes) -> None:
        data = orjson.loads(message)
        self._deliver(uuid.UUID(data["user_id"]), data["frame"])

    # -- the loop --------------------------------------------------------------------------------

    async def start(self, stack: AsyncExitStack) -> None:
        await self.state.broker.subscribe(PUSH_CHANNEL, self._on_pushed)
        task = asyncio.create_task(self._run_forever(), name="cowrite-jobs")

        async def stop() -> None:
            # The loop is asked to stop rather than cancelled in the middle of a database call;
            # a running job's handler is cancelled, and the job handed back for the next start.
            self._stopping = True
            self._wake.set()
            if self._current is not None:
                self._current.cancel()
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_SECONDS)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self.state.broker.unsubscribe(PUSH_CHANNEL, self._on_pushed)

        stack.push_async_callback(stop)

    async def _run_forever(self) -> None:
        settings = self.state.settings
        while not self._stopping:
            # Cleared before looking for work, so a wake-up (a new job, or stop) that comes
            # while the loop is busy is not lost and cuts the next wait short.
            self._wake.clear()
            try:
                if await self._has_work():
                    await self.recover_stale()
                    while not self._stopping and await self.run_one():
                        pass
            except Exception:
                log.exception("job loop failed")
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), settings.job_poll_seconds)

    async def _has_work(self) -> bool:
        if not self._handlers:
            return False
        stale_before = utcnow() - timedelta(seconds=self.state.settings.job_stale_seconds)
        async with unit_of_work(self.state.reader_factory) as session:
            return await repository.has_work(session, list(self._handlers), stale_before)

    async def recover_stale(self) -> None:
        """Queue again (or fail, after too many tries) jobs whose process stopped beating."""
        settings = self.state.settings
        before = utcnow() - timedelta(seconds=settings.job_stale_seconds)
        async with unit_of_work(self.state.session_factory) as session:
            for job in await repository.stale_running(session, before):
                job.claimed_by = None
                job.heartbeat_at = None
                job.updated_at = utcnow()
                if job.attempts >= settings.job_max_attempts:
                    job.status = "failed"
                    job.finished_at = utcnow()
                    job.error = (
                        f"The job was interrupted {job.attempts} times (its server stopped) "
                        "and was given up"
                    )
                    log.warning("job %s given up after %d attempts", job.id, job.attempts)
                else:
                    job.status = "queued"
                    log.info("job %s lost its process; queued again", job.id)

    async def run_one(self) -> bool:
        """Claim and run the oldest queued job; False when there was none."""
        if not self._handlers:
            return False
        async with unit_of_work(self.state.session_factory) as session:
            job = await repository.claim_next(session, self.worker, list(self._handlers))
            if job is None:
                return False
            context = JobContext(
                id=job.id,
                kind=job.kind,
                owner_id=job.owner_id,
                workspace_id=job.workspace_id,
                params=json.loads(job.params or "{}"),
                input_key=job.input_key,
                attempt=job.attempts,
                _runner=self,
            )
        self.push(context.owner_id, context.view("running"))
        beat = asyncio.create_task(self._beat(context), name=f"cowrite-job-beat-{context.id}")
        self._current = asyncio.create_task(self._run_handler(context))
        try:
            outcome, error = await self._current
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # Shutting down: hand the job back at once, so the next start resumes it.
            await self._requeue(context)
            return False
        finally:
            self._current = None
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
        await self._finish(context, outcome, error)
        return True

    async def _run_handler(self, context: JobContext) -> tuple[JobOutcome, str | None]:
        handler = self._handlers.get(context.kind)
        if handler is None:
            return JobOutcome(), f"This server cannot run jobs of kind {context.kind!r}"
        try:
            return await handler(context), None
        except JobFailed as exc:
            return JobOutcome(), str(exc)
        except AppError as exc:
            return JobOutcome(), exc.detail
        except Exception:
            log.exception("job %s (%s) failed", context.id, context.kind)
            return JobOutcome(), "The job failed because of an internal error"

    async def _finish(self, context: JobContext, outcome: JobOutcome, error: str | None) -> None:
        async with unit_of_work(self.state.session_factory) as session:
            kept = await repository.finish(
                session,
                context.id,
                self.worker,
                error=error,
                result=None if outcome.result is None else json.dumps(outcome.result),
                result_key=outcome.result_key,
            )
        if not kept:
            # Another process took the job over meanwhile: its outcome counts, not this one.
            log.warning("job %s was taken over; dropping this run's outcome", context.id)
            if outcome.result_key is not None:
                await self.state.blobs.delete(outcome.result_key)
            return
        self.push(context.owner_id, context.view("failed" if error else "done", error))

    async def _beat(self, context: JobContext) -> None:
        interval = max(min(self.state.settings.job_stale_seconds / 4, 5.0), 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                async with unit_of_work(self.state.session_factory) as session:
                    await repository.heartbeat(
                        session, context.id, self.worker, context.progress_value
                    )
            except Exception:
                log.exception("job %s heartbeat failed", context.id)

    async def _requeue(self, context: JobContext) -> None:
        try:
            async with unit_of_work(self.state.session_factory) as session:
                await session.execute(
                    update(Job)
                    .where(Job.id == context.id, Job.claimed_by == self.worker)
                    .values(
                        status="queued",
                        claimed_by=None,
                        heartbeat_at=None,
                        attempts=Job.attempts - 1,
                    )
                )
        except Exception:
            log.exception("job %s could not be handed back; it resumes once stale", context.id)
