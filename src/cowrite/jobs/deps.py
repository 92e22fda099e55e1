"""Typed authorization for routes with a `{job_id}`: a job is seen by the person who started it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from cowrite.auth.deps import CurrentUser, Principal
from cowrite.deps import DbSession
from cowrite.jobs import repository
from cowrite.kit.errors import NotFound
from cowrite.models import Job
from cowrite.workspaces.access import role_in_workspace


@dataclass(frozen=True, slots=True)
class JobAccess:
    principal: Principal
    job: Job


async def _own_job(job_id: uuid.UUID, principal: CurrentUser, session: DbSession) -> JobAccess:
    """404 for anyone but its creator, and for its creator once they left the job's workspace
    (or it was deleted): a job's result holds that workspace's data."""
    job = await repository.get(session, job_id)
    if job is None or job.owner_id != principal.user_id:
        raise NotFound("Job not found", code="not_found")
    workspace_id = job.workspace_id
    if workspace_id is not None and not await role_in_workspace(
        session, principal.user_id, workspace_id
    ):
        raise NotFound("Job not found", code="not_found")
    return JobAccess(principal=principal, job=job)


JobOwner = Annotated[JobAccess, Depends(_own_job)]
