"""/api/v1/workspaces/{id}/documents, /api/v1/documents/{id}, tags; the trash purge job."""

from __future__ import annotations

import uuid
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from cowrite.deps import DbSession, State
from cowrite.documents import members, members_endpoints, rich, service
from cowrite.documents.deps import (
    DocumentDeletion,
    DocumentEditor,
    DocumentReader,
    RestorableDocument,
)
from cowrite.documents.schemas import (
    DocumentCreate,
    DocumentOut,
    DocumentSummary,
    DocumentUpdate,
    DocumentView,
    TagOut,
)
from cowrite.kit.pagination import Page, PageParams, page_params
from cowrite.kit.tasks import start_periodic
from cowrite.state import AppState
from cowrite.workspaces.deps import WorkspaceEditor, WorkspaceViewer
from cowrite.workspaces.outbox import PendingEvents

router = APIRouter(tags=["documents"])
router.include_router(members_endpoints.router)


@router.post(
    "/api/v1/workspaces/{workspace_id}/documents",
    status_code=status.HTTP_201_CREATED,
    response_model=DocumentOut,
)
async def create_document(
    body: DocumentCreate,
    access: WorkspaceEditor,
    state: State,
    session: DbSession,
) -> Response:
    return await created(state, session, access.workspace.id, access.principal.user_id, body)


async def created(
    state: AppState,
    session: AsyncSession,
    workspace_id: uuid.UUID,
    author_id: uuid.UUID,
    body: DocumentCreate,
) -> Response:
    """The create and its answer, for this route and for its lean path (`lean_create`)."""
    document = await service.create_document(
        state,
        session,
        workspace_id,
        author_id,
        body.title,
        body.content,
        body.tags,
        format_name=body.format,
        content_json=body.content_json,
    )
    # Serialized once, here: the route's response_model describes it in the schema only.
    return Response(
        document.model_dump_json(),
        status_code=status.HTTP_201_CREATED,
        media_type="application/json",
    )


@router.get("/api/v1/workspaces/{workspace_id}/documents", response_model=Page[DocumentSummary])
async def list_documents(
    access: WorkspaceViewer,
    session: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
    tag: Annotated[str | None, Query(max_length=256)] = None,
    trashed: bool = False,
) -> Page[DocumentSummary]:
    viewer = (access.principal.user_id, access.role)
    return await service.list_documents(
        session, access.workspace.id, viewer, trashed=trashed, tag=tag, params=params
    )


@router.get("/api/v1/workspaces/{workspace_id}/tags", response_model=list[TagOut])
async def list_tags(access: WorkspaceViewer, session: DbSession) -> list[TagOut]:
    return await service.tag_counts(
        session, access.workspace.id, (access.principal.user_id, access.role)
    )


@router.get(
    "/api/v1/documents/{document_id}",
    response_model=DocumentView,
    response_model_exclude_unset=True,  # content_json only when asked for
)
async def get_document(
    access: DocumentReader,
    state: State,
    session: DbSession,
    as_: Annotated[
        Literal["markdown", "html", "json"],
        Query(
            alias="as",
            description="`content` as Markdown or sanitized HTML; `json` adds `content_json` "
            "(ProseMirror JSON)",
        ),
    ] = "markdown",
) -> Response:
    document = await service.view(session, access.document, access.tags)
    out = DocumentView.model_construct(**dict(document), role=access.role)
    fresh = await service.fresh_content(state, session, access.document, access.content_behind)
    if fresh is not None:
        out.content = fresh
    if as_ == "html":
        out.content = str(await rich.render(state, session, access.document, "html"))
    elif as_ == "json":
        body = await rich.render(state, session, access.document, "json")
        out.content_json = body if isinstance(body, dict) else None
    # Serialized once, here: the route's response_model describes it in the schema only.
    return Response(out.model_dump_json(exclude_unset=True), media_type="application/json")


@router.patch("/api/v1/documents/{document_id}", response_model=DocumentOut)
async def update_document(
    body: DocumentUpdate,
    access: DocumentEditor,
    state: State,
    session: DbSession,
    outbox: PendingEvents,
) -> DocumentOut:
    if body.visibility is not None:
        await members.set_visibility(session, access, body.visibility, outbox)
    return await service.update_document(
        state,
        session,
        access.document,
        access.principal.user_id,
        title=body.title,
        content=body.content,
        content_json=body.content_json,
        tags=body.tags,
        base_version=body.base_version,
        outbox=outbox,
    )


@router.delete("/api/v1/documents/{document_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(
    access: DocumentDeletion,
    session: DbSession,
    outbox: PendingEvents,
    permanent: bool = False,
) -> Response:
    """Move to the trash, or with `permanent=true` (admin, from the trash) delete for good."""
    if permanent:
        await service.delete_permanently(session, access.document, access.principal.user_id)
    else:
        await service.trash(session, access.document, access.principal.user_id, outbox)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/api/v1/documents/{document_id}/restore", response_model=DocumentOut)
async def restore_document(
    access: RestorableDocument, session: DbSession, outbox: PendingEvents
) -> DocumentOut:
    return await service.restore(session, access.document, access.principal.user_id, outbox)


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    """Run the trash purge in the background for as long as the app lives."""
    settings = state.settings
    retention = timedelta(days=settings.trash_retention_days)
    task = start_periodic(
        stack,
        "cowrite-trash-purge",
        lambda: service.purge_trash(state.session_factory, retention),
        settings.trash_purge_interval_seconds,
        "purged %d documents from the trash",
    )
    state.background.append(task)
