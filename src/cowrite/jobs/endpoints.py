"""/api/v1/jobs/{job_id}: a job's state, and what it produced."""

from __future__ import annotations

import json
from contextlib import AsyncExitStack

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from cowrite.deps import State
from cowrite.files.names import content_disposition
from cowrite.jobs.deps import JobOwner
from cowrite.jobs.runner import JobRunner
from cowrite.jobs.schemas import JobOut
from cowrite.kit.errors import Conflict, NotFound
from cowrite.models import Job
from cowrite.state import AppState
from cowrite.storage import BlobNotFound

router = APIRouter(prefix="/api/v1", tags=["jobs"])


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    push = state.presence.manager if state.presence is not None else None
    runner = JobRunner(state, push)
    state.jobs = runner
    # Handlers register during the start-up of the features after this one; the runner claims
    # only the kinds it has a handler for.
    await runner.start(stack)


def job_view(job: Job) -> JobOut:
    return JobOut(
        id=job.id,
        kind=job.kind,
        status=job.status,  # type: ignore[arg-type]  # the column holds one of the four
        progress=job.progress,
        error=job.error,
        workspace_id=job.workspace_id,
        result=None if job.result is None else json.loads(job.result),
        has_result_file=job.result_key is not None,
        created_at=job.created_at,
        updated_at=job.updated_at,
        finished_at=job.finished_at,
    )


@router.get("/jobs/{job_id}", response_model=JobOut)
async def get_job(access: JobOwner) -> JobOut:
    return job_view(access.job)


@router.get(
    "/jobs/{job_id}/result",
    response_class=Response,
    responses={
        200: {
            "content": {"application/zip": {}, "application/json": {}},
            "description": "The job's file (an export) or its summary (an import)",
        },
        409: {"description": "The job has not finished, or failed"},
    },
)
async def get_job_result(access: JobOwner, state: State) -> Response:
    job = access.job
    if job.status != "done":
        detail = job.error if job.status == "failed" else "The job has not finished yet"
        raise Conflict(detail or "The job failed", code=f"job_{job.status}")
    summary = json.loads(job.result) if job.result else {}
    if job.result_key is None:
        return JSONResponse(summary)
    try:
        reader = await state.blobs.open(job.result_key)
    except BlobNotFound:
        raise NotFound("The job's result is no longer stored", code="result_missing") from None
    return StreamingResponse(
        reader.chunks(0, reader.size),
        media_type=summary.get("content_type", "application/octet-stream"),
        headers={
            "Content-Length": str(reader.size),
            "Content-Disposition": content_disposition(summary.get("filename", "result")),
            "X-Content-Type-Options": "nosniff",
        },
        background=BackgroundTask(reader.close),
    )
