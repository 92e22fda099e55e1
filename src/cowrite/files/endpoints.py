"""/api/v1/workspaces/{workspace_id}/files and /api/v1/files/{file_id}."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from starlette.requests import ClientDisconnect

from cowrite.deps import DbSession, State
from cowrite.files import download, service
from cowrite.files.deps import FileDeleter, FileViewer
from cowrite.files.schemas import UPLOAD_REQUEST_BODY, FileOut
from cowrite.kit.errors import BadRequest
from cowrite.kit.pagination import Page, PageParams, page_params
from cowrite.state import AppState
from cowrite.storage import create_blob_store
from cowrite.workspaces.deps import WorkspaceEditor, WorkspaceViewer

router = APIRouter(prefix="/api/v1", tags=["files"])


async def startup(state: AppState, _stack: AsyncExitStack) -> None:
    state.storage = create_blob_store(state.settings)


async def _request_body(request: Request) -> AsyncIterator[bytes]:
    try:
        async for chunk in request.stream():
            yield chunk
    except ClientDisconnect:
        raise BadRequest("The upload was cut off", code="upload_incomplete") from None


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length", "")
    return int(value) if value.isdigit() else None


@router.post(
    "/workspaces/{workspace_id}/files",
    status_code=status.HTTP_201_CREATED,
    response_model=FileOut,
    openapi_extra={"requestBody": UPLOAD_REQUEST_BODY},
    responses={415: {"description": "Not multipart/form-data"}},
)
async def upload_file(
    access: WorkspaceEditor, request: Request, state: State, session: DbSession
) -> FileOut:
    stored = await service.upload(
        state,
        session,
        access.workspace.id,
        access.principal.user_id,
        request.headers.get("content-type"),
        _request_body(request),
        _content_length(request),
    )
    return FileOut.model_validate(stored)


@router.get("/workspaces/{workspace_id}/files", response_model=Page[FileOut])
async def list_files(
    access: WorkspaceViewer,
    session: DbSession,
    page: Annotated[PageParams, Depends(page_params)],
    document_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[FileOut]:
    rows, next_cursor = await service.list_files(
        session, access.workspace.id, access.principal.user_id, document_id, page
    )
    return Page[FileOut](
        items=[FileOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get("/files/{file_id}", response_model=FileOut)
async def get_file(access: FileViewer) -> FileOut:
    return FileOut.model_validate(access.file)


@router.get(
    "/files/{file_id}/content",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The file"},
        206: {"description": "A byte range of the file"},
        304: {"description": "Not modified"},
        416: {"description": "Range not satisfiable"},
    },
)
async def download_file(access: FileViewer, request: Request, state: State) -> Response:
    return await download.file_response(service.store_of(state), access.file, request.headers)


@router.delete("/files/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_file(access: FileDeleter, state: State, session: DbSession) -> Response:
    await service.delete(state, session, access.file)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
