"""Helpers for co-editing tests: documents made straight in the database, Yjs state read back,
and the official Yjs client driven through Node."""

from __future__ import annotations

import json
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pycrdt import Doc, Text
from sqlalchemy import select

from cowrite.db import create_engine, create_session_factory, unit_of_work
from cowrite.models import Document, Membership, Workspace, YSnapshot, YUpdate

INTEROP_DIR = Path(__file__).resolve().parent.parent / "interop"


@dataclass
class DocCtx:
    workspace_id: uuid.UUID
    document_id: uuid.UUID


async def make_document(
    url: str,
    members: dict[uuid.UUID, str],
    *,
    content: str = "",
    title: str = "Notes",
    format: str = "markdown",
) -> DocCtx:
    """A workspace with these members (user id -> role) and one document in it."""
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            workspace = Workspace(name="Team")
            session.add(workspace)
            await session.flush()
            for user_id, role in members.items():
                session.add(Membership(workspace_id=workspace.id, user_id=user_id, role=role))
            document = Document(
                workspace_id=workspace.id, title=title, content=content, format=format
            )
            session.add(document)
            await session.flush()
            return DocCtx(workspace.id, document.id)
    finally:
        await engine.dispose()


async def stored_text(url: str, document_id: uuid.UUID) -> str:
    """The text the database holds for a document: its Yjs snapshot plus every logged update."""
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            snapshot = (
                await session.execute(
                    select(YSnapshot.state).where(YSnapshot.document_id == document_id)
                )
            ).scalar_one_or_none()
            rows = (
                await session.execute(
                    select(YUpdate.data)
                    .where(YUpdate.document_id == document_id)
                    .order_by(YUpdate.id)
                )
            ).scalars()
            doc: Doc = Doc()
            for update in [snapshot, *rows]:
                if update is not None:
                    doc.apply_update(update)
            return str(doc.get("content", type=Text))
    finally:
        await engine.dispose()


async def document_content(url: str, document_id: uuid.UUID) -> str:
    engine = create_engine(url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            document = await session.get(Document, document_id)
            assert document is not None
            return document.content
    finally:
        await engine.dispose()


def run_node(
    scenario: str, config: dict[str, Any], *, timeout: float = 60, script: str = "yclient.mjs"
) -> dict[str, Any]:
    """Run one scenario of a script in `tests/interop` (`yclient.mjs`: yjs + y-websocket,
    `richclient.mjs`: the Tiptap stack); its last stdout line is the result."""
    completed = subprocess.run(
        ["node", str(INTEROP_DIR / script), scenario, json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=INTEROP_DIR,
        check=False,
    )
    if completed.returncode != 0:
        output = f"{completed.stderr}\n{completed.stdout}"
        raise AssertionError(f"node {scenario} failed ({completed.returncode}):\n{output}")
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result
