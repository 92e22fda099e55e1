"""What the jobs API answers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel


class JobOut(BaseModel):
    id: uuid.UUID
    kind: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float
    error: str | None
    workspace_id: uuid.UUID | None
    # A small summary of what the job did (an import lists the documents it created).
    result: dict[str, Any] | None
    has_result_file: bool
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class JobAccepted(BaseModel):
    job_id: uuid.UUID
