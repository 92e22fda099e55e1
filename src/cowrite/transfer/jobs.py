"""The export and import job handlers, run by the jobs runner."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from pathlib import Path

from cowrite.db import unit_of_work
from cowrite.jobs.runner import Handler, JobContext, JobFailed, JobOutcome
from cowrite.state import AppState
from cowrite.storage import BlobNotFound
from cowrite.transfer import repository
from cowrite.transfer.exporter import export_workspace
from cowrite.transfer.importer import run_import
from cowrite.transfer.names import stem_for
from cowrite.transfer.zipsafe import ZipRefused
from cowrite.workspaces.access import require_role, role_in_workspace
from cowrite.workspaces.roles import Role

WORKSPACE_EXPORT = "workspace_export"
WORKSPACE_IMPORT = "workspace_import"


async def _require(state: AppState, context: JobContext, minimum: Role) -> None:
    """The person who started the job must still hold the role when it runs."""
    assert context.workspace_id is not None
    async with unit_of_work(state.session_factory) as session:
        role = await role_in_workspace(session, context.owner_id, context.workspace_id)
    require_role(role, minimum)


def export_handler(state: AppState) -> Handler:
    async def run(context: JobContext) -> JobOutcome:
        await _require(state, context, Role.ADMIN)
        assert context.workspace_id is not None
        async with unit_of_work(state.reader_factory) as session:
            workspace = await repository.workspace(session, context.workspace_id)
            count = await repository.live_document_count(session, context.workspace_id)
        name = stem_for(workspace.name if workspace else "workspace")
        blob = await state.blobs.put(
            export_workspace(
                state.reader_factory, state.blobs, context.workspace_id, context.progress
            )
        )
        return JobOutcome(
            result={
                "filename": f"{name}.zip",
                "content_type": "application/zip",
                "documents": count,
                "size": blob.size,
            },
            result_key=blob.key,
        )

    return run


async def _download(state: AppState, key: str, target: Path) -> None:
    try:
        reader = await state.blobs.open(key)
    except BlobNotFound:
        raise JobFailed("The uploaded file is no longer stored; import it again") from None
    with target.open("wb") as handle:
        async for chunk in reader.chunks(0, reader.size):
            await asyncio.to_thread(handle.write, chunk)


def import_handler(state: AppState) -> Handler:
    async def run(context: JobContext) -> JobOutcome:
        await _require(state, context, Role.EDITOR)
        assert context.workspace_id is not None and context.input_key is not None
        filename = str(context.params.get("filename") or "upload")
        fd, name = tempfile.mkstemp(prefix="cowrite-import-", suffix=".upload")
        os.close(fd)
        path = Path(name)
        final = True
        try:
            await _download(state, context.input_key, path)
            try:
                result = await run_import(
                    state, context.workspace_id, context.owner_id, path, filename, context.progress
                )
            except ZipRefused as exc:
                raise JobFailed(str(exc)) from None
            result["filename"] = filename
            return JobOutcome(result=result)
        except asyncio.CancelledError:
            final = False  # shutting down: the job resumes, and needs its upload
            raise
        finally:
            await asyncio.to_thread(path.unlink, missing_ok=True)
            if final:
                with contextlib.suppress(Exception):
                    await state.blobs.delete(context.input_key)

    return run
