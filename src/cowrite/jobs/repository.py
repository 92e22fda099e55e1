"""SQL for the jobs table."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.kit.clock import utcnow
from cowrite.models import Job


async def get(session: AsyncSession, job_id: uuid.UUID) -> Job | None:
    return await session.get(Job, job_id)


async def has_work(session: AsyncSession, kinds: list[str], stale_before: datetime) -> bool:
    """Whether a job waits to be claimed or recovered: a read, so an idle poll never takes
    SQLite's write lock."""
    query = (
        select(Job.id)
        .where(
            Job.kind.in_(kinds),
            or_(
                Job.status == "queued",
                and_(Job.status == "running", Job.heartbeat_at < stale_before),
            ),
        )
        .limit(1)
    )
    return (await session.execute(query)).first() is not None


async def claim_next(session: AsyncSession, worker: str, kinds: list[str]) -> Job | None:
    """Take the oldest queued job of the kinds this process can run. PostgreSQL skips rows
    another process is claiming; SQLite's write transaction (BEGIN IMMEDIATE) already lets one
    claimer in at a time."""
    query = (
        select(Job)
        .where(Job.status == "queued", Job.kind.in_(kinds))
        .order_by(Job.created_at, Job.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    job = (await session.execute(query)).scalar_one_or_none()
    if job is None:
        return None
    now = utcnow()
    job.status = "running"
    job.claimed_by = worker
    job.attempts += 1
    job.heartbeat_at = now
    job.updated_at = now
    job.error = None
    await session.flush()
    return job


async def heartbeat(
    session: AsyncSession, job_id: uuid.UUID, worker: str, progress: float | None
) -> bool:
    """Refresh a running job's heartbeat (and progress); False when this worker lost it."""
    values: dict[str, object] = {"heartbeat_at": utcnow(), "updated_at": utcnow()}
    if progress is not None:
        values["progress"] = progress
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running", Job.claimed_by == worker)
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


async def finish(
    session: AsyncSession,
    job_id: uuid.UUID,
    worker: str,
    *,
    error: str | None,
    result: str | None,
    result_key: str | None,
) -> bool:
    now = utcnow()
    values: dict[str, object] = {
        "status": "failed" if error is not None else "done",
        "error": error,
        "result": result,
        "result_key": result_key,
        "updated_at": now,
        "finished_at": now,
        "heartbeat_at": None,
    }
    if error is None:
        values["progress"] = 1.0
    outcome = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running", Job.claimed_by == worker)
        .values(**values)
    )
    return bool(outcome.rowcount)  # type: ignore[attr-defined]  # CursorResult of an UPDATE


async def stale_running(session: AsyncSession, before: datetime) -> list[Job]:
    """Running jobs whose process stopped beating (it died or was restarted)."""
    query = (
        select(Job)
        .where(and_(Job.status == "running", Job.heartbeat_at < before))
        .with_for_update(skip_locked=True)
    )
    return list((await session.execute(query)).scalars().all())


async def blob_keys(session: AsyncSession, keys: list[str]) -> set[str]:
    """Which of these storage keys a job holds (its input or its result)."""
    if not keys:
        return set()
    found: set[str] = set()
    for column in (Job.input_key, Job.result_key):
        rows = await session.execute(select(column).where(column.in_(keys)))
        found.update(key for key in rows.scalars().all() if key is not None)
    return found
