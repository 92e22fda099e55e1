"""Document export, workspace exports and imports (as background jobs)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from starlette.requests import ClientDisconnect

from cowrite.deps import DbSession, State
from cowrite.documents.deps import DocumentViewer
from cowrite.documents.repository import tags_of_one
from cowrite.files.multipart import MultipartReader, invalid
from cowrite.files.names import content_disposition, safe_filename
from cowrite.files.schemas import UPLOAD_REQUEST_BODY
from cowrite.jobs.runner import JobRunner
from cowrite.jobs.schemas import JobAccepted
from cowrite.kit.errors import BadRequest, PayloadTooLarge, Unprocessable
from cowrite.state import AppState
from cowrite.storage import BlobInfo
from cowrite.transfer import repository
from cowrite.transfer.exporter import front_matter
from cowrite.transfer.jobs import (
    WORKSPACE_EXPORT,
    WORKSPACE_IMPORT,
    export_handler,
    import_handler,
)
from cowrite.transfer.names import stem_for
from cowrite.transfer.render import render_html
from cowrite.workspaces.deps import WorkspaceAdmin, WorkspaceEditor

router = APIRouter(prefix="/api/v1", tags=["export and import"])

FORM_OVERHEAD_BYTES = 64 * 1024


async def startup(state: AppState, _stack: AsyncExitStack) -> None:
    runner = _runner(state)
    runner.register(WORKSPACE_EXPORT, export_handler(state))
    runner.register(WORKSPACE_IMPORT, import_handler(state))
    runner.wake()


def _runner(state: AppState) -> JobRunner:
    if state.jobs is None:
        raise RuntimeError("the jobs feature starts before exports and imports")
    return state.jobs


class ExportFormat(StrEnum):
    md = "md"
    html = "html"


@router.get(
    "/documents/{document_id}/export",
    response_class=Response,
    responses={200: {"content": {"text/markdown": {}, "text/html": {}}}},
)
async def export_document(
    access: DocumentViewer,
    session: DbSession,
    format: Annotated[ExportFormat, Query()] = ExportFormat.md,
) -> Response:
    document = access.document
    stem = stem_for(document.title)
    if format is ExportFormat.html:
        files = await repository.files_of_document(session, document.id)
        body = render_html(document.title, document.content, files)
        media_type, filename = "text/html; charset=utf-8", f"{stem}.html"
    else:
        tags = await tags_of_one(session, document.id)
        body = front_matter(document, tags) + document.content
        media_type, filename = "text/markdown; charset=utf-8", f"{stem}.md"
    return Response(
        body.encode(),
        media_type=media_type,
        headers={
            "Content-Disposition": content_disposition(filename),
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post(
    "/workspaces/{workspace_id}/exports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAccepted,
)
async def start_export(access: WorkspaceAdmin, state: State, session: DbSession) -> JobAccepted:
    runner = _runner(state)
    job = await runner.submit(
        session,
        kind=WORKSPACE_EXPORT,
        owner_id=access.principal.user_id,
        workspace_id=access.workspace.id,
    )
    await session.commit()
    runner.wake()
    return JobAccepted(job_id=job.id)


async def _request_body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        raise BadRequest("The upload was cut off", code="upload_incomplete") from None


async def _capped(chunks: AsyncIterator[bytes], limit: int) -> AsyncIterator[bytes]:
    total = 0
    async for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise PayloadTooLarge(
                f"An import is at most {limit} bytes",
                code="file_too_large",
                headers={"Connection": "close"},
            )
        yield chunk


async def _store_upload(state: AppState, request: Request) -> tuple[BlobInfo, str]:
    """The `file` part, streamed into the blob store."""
    limit = state.settings.import_max_bytes
    reader = MultipartReader(
        _request_body(request),
        request.headers.get("content-type"),
        max_body_bytes=limit + FORM_OVERHEAD_BYTES,
    )
    blob: BlobInfo | None = None
    filename = ""
    try:
        async for part in reader.parts():
            if part.name != "file":
                continue
            if blob is not None:
                raise invalid("Send one `file` part per import")
            filename = safe_filename(part.filename or "upload")
            blob = await state.blobs.put(_capped(part.chunks(), limit))
    except BaseException:
        if blob is not None:
            await state.blobs.delete(blob.key)
        raise
    if blob is None:
        raise Unprocessable("The form has no `file` part", code="file_missing")
    return blob, filename


@router.post(
    "/workspaces/{workspace_id}/imports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobAccepted,
    openapi_extra={"requestBody": UPLOAD_REQUEST_BODY},
)
async def start_import(
    access: WorkspaceEditor, request: Request, state: State, session: DbSession
) -> JobAccepted:
    # Nothing of the request's transaction is held while the upload streams in.
    await session.commit()
    blob, filename = await _store_upload(state, request)
    runner = _runner(state)
    try:
        job = await runner.submit(
            session,
            kind=WORKSPACE_IMPORT,
            owner_id=access.principal.user_id,
            workspace_id=access.workspace.id,
            params={"filename": filename},
            input_key=blob.key,
        )
        await session.commit()
    except BaseException:
        await state.blobs.delete(blob.key)
        raise
    runner.wake()
    return JobAccepted(job_id=job.id)
