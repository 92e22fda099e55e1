"""Jobs in a real server: progress reaches the owner's sockets; a job left running by a
process that died is resumed after a restart, or failed visibly after too many tries."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import websockets

from cowrite.kit.clock import utcnow
from cowrite.models import Job
from tests.conftest import server_env
from tests.support.databases import TestDatabase
from tests.support.documents import create_document
from tests.support.factories import UserCtx, make_user
from tests.support.files import database_sessions
from tests.support.server import ServerProcess
from tests.support.transfer import wait_for_job
from tests.support.workspaces import make_workspace

STALE = {"COWRITE_JOB_STALE_SECONDS": "1", "COWRITE_JOB_POLL_SECONDS": "0.2"}


@pytest.fixture
def quick_server(db: TestDatabase, tmp_path: Path) -> ServerProcess:
    return ServerProcess(env=server_env(db, tmp_path / "data", **STALE), workdir=tmp_path)


@pytest.fixture
async def api(quick_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    quick_server.start()
    try:
        async with httpx.AsyncClient(base_url=quick_server.base_url, timeout=30) as client:
            yield client
    finally:
        quick_server.stop()


async def _export_watching_progress(
    quick_server: ServerProcess, api: httpx.AsyncClient, owner: UserCtx, workspace_id: str
) -> str:
    """Start an export while listening on the owner's `/ws`: its progress arrives there."""
    url = f"{quick_server.ws_url}/ws?token={owner.access_token}"
    async with websockets.connect(url) as socket:
        assert json.loads(await socket.recv())["type"] == "connected"
        started = await api.post(
            f"/api/v1/workspaces/{workspace_id}/exports", headers=owner.headers
        )
        job_id: str = started.json()["job_id"]
        seen: list[dict[str, object]] = []
        while not seen or seen[-1]["status"] not in ("done", "failed"):
            frame = json.loads(await socket.recv())
            if frame["type"] == "job_progress" and frame["job"]["id"] == job_id:
                seen.append(frame["job"])
    assert seen[0]["status"] == "running"
    assert seen[-1] == {
        "id": job_id,
        "kind": "workspace_export",
        "status": "done",
        "progress": 1.0,
        "error": None,
    }
    return job_id


async def _leave_running(db: TestDatabase, job_id: str, attempts: int) -> None:
    """What a process killed in the middle of the job leaves behind."""
    async with database_sessions(db.url) as factory, factory() as session:
        job = await session.get(Job, uuid.UUID(job_id))
        assert job is not None
        job.status = "running"
        job.attempts = attempts
        job.claimed_by = "a-process-that-died"
        job.heartbeat_at = utcnow() - timedelta(minutes=5)
        job.finished_at = None
        job.result_key = None
        await session.commit()


async def test_jobs_survive_a_restart(
    db: TestDatabase, quick_server: ServerProcess, api: httpx.AsyncClient
) -> None:
    owner = await make_user(api)
    workspace = await make_workspace(api, owner)
    for n in range(3):
        await create_document(api, owner, workspace["id"], f"Doc {n}", "text " * 50)
    resumed = await _export_watching_progress(quick_server, api, owner, workspace["id"])
    url = f"/api/v1/workspaces/{workspace['id']}/exports"
    given_up = (await api.post(url, headers=owner.headers)).json()["job_id"]
    await wait_for_job(api, owner, given_up)
    quick_server.stop()
    await _leave_running(db, resumed, attempts=1)
    await _leave_running(db, given_up, attempts=3)
    quick_server.start()

    job = await wait_for_job(api, owner, resumed)
    assert job["status"] == "done"
    result = await api.get(f"/api/v1/jobs/{resumed}/result", headers=owner.headers)
    assert result.status_code == 200 and result.content[:2] == b"PK"
    failed = await wait_for_job(api, owner, given_up)
    assert failed["status"] == "failed"
    assert "interrupted 3 times" in failed["error"]
