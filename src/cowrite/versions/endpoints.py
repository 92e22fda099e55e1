"""/api/v1/documents/{id}/versions: history, snapshots, diffs and restores."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status

from cowrite.deps import DbSession, State
from cowrite.documents.deps import DocumentEditor, DocumentViewer
from cowrite.documents.schemas import DocumentOut
from cowrite.kit.errors import BadRequest
from cowrite.kit.pagination import Page, PageParams, decode_cursor, next_cursor_for, page_params
from cowrite.models import DocumentVersion
from cowrite.versions import service
from cowrite.versions.restore import restore_version
from cowrite.versions.schemas import DiffOut, SnapshotIn, VersionDetail, VersionOut
from cowrite.workspaces.outbox import PendingEvents

router = APIRouter(prefix="/api/v1/documents/{document_id}/versions", tags=["versions"])

VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1)]
_AGAINST = r"^(current|[1-9][0-9]{0,8})$"


def _before(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    value, _row_id = decode_cursor(cursor)
    if not isinstance(value, int):
        raise BadRequest("Invalid cursor", code="invalid_cursor")
    return value


@router.get("", response_model=Page[VersionOut])
async def list_versions(
    access: DocumentViewer,
    session: DbSession,
    params: Annotated[PageParams, Depends(page_params)],
) -> Page[VersionOut]:
    rows = await service.list_versions(
        session, access.document.id, params.limit, _before(params.cursor)
    )

    def key(version: DocumentVersion) -> tuple[int, uuid.UUID]:
        return version.number, version.id

    items, next_cursor = next_cursor_for(rows, params.limit, key)
    return Page(items=[VersionOut.model_validate(v) for v in items], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=VersionOut)
async def create_snapshot(
    body: SnapshotIn, access: DocumentEditor, state: State, session: DbSession
) -> VersionOut:
    version = await service.snapshot(
        state, session, access.document, access.principal.user_id, body.label
    )
    return VersionOut.model_validate(version)


@router.get("/{number}", response_model=VersionDetail)
async def get_version(
    number: VersionNumber, access: DocumentViewer, session: DbSession
) -> VersionDetail:
    version, text = await service.get_version(session, access.document.id, number)
    return VersionDetail(**VersionOut.model_validate(version).model_dump(), content=text)


@router.get("/{number}/diff", response_model=DiffOut)
async def diff_version(
    number: VersionNumber,
    access: DocumentViewer,
    session: DbSession,
    against: Annotated[str, Query(pattern=_AGAINST)] = "current",
) -> DiffOut:
    """Unified diff from version `number` to version `against` (or the current text)."""
    target = None if against == "current" else int(against)
    unified = await service.diff(session, access.document, number, target)
    to = against if target is None else target
    return DiffOut.model_validate({"from": number, "to": to, "unified": unified})


@router.post("/{number}/restore", response_model=DocumentOut)
async def restore(
    number: VersionNumber,
    access: DocumentEditor,
    state: State,
    session: DbSession,
    outbox: PendingEvents,
) -> DocumentOut:
    return await restore_version(
        state, session, access.document, access.principal.user_id, number, outbox
    )
