"""`cowrite export | import | backup | restore`: run against the configured database and
storage directly (the server may be running meanwhile), with progress bars."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from sqlalchemy import select

from cowrite.config import Settings
from cowrite.db import unit_of_work
from cowrite.kit.errors import AppError
from cowrite.models import Membership, User
from cowrite.state import AppState
from cowrite.storage import create_blob_store
from cowrite.transfer.backup import BackupError, Step, create_backup, restore_backup
from cowrite.transfer.exporter import export_workspace
from cowrite.transfer.importer import run_import
from cowrite.transfer.zipsafe import ZipRefused

# Messages are not wrapped: operators grep them and paths are long.
console = Console(stderr=True, soft_wrap=True)


def _bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=console,
    )


@asynccontextmanager
async def _state(settings: Settings) -> AsyncIterator[AppState]:
    from cowrite.app import build_state

    state = build_state(settings)
    state.storage = create_blob_store(settings)
    try:
        yield state
    finally:
        await state.engine.dispose()
        if state.read_session_factory is not None:
            await state.read_session_factory.kw["bind"].dispose()


async def export_command(workspace_id: uuid.UUID, out: Path) -> int:
    settings = Settings()
    async with _state(settings) as state:
        partial = out.with_name(out.name + ".partial")
        with _bar() as bar, partial.open("wb") as handle:
            task = bar.add_task(f"Exporting to {out.name}", total=1.0)

            def advance(fraction: float) -> None:
                bar.update(task, completed=fraction)

            try:
                async for chunk in export_workspace(
                    state.reader_factory, state.blobs, workspace_id, advance
                ):
                    await asyncio.to_thread(handle.write, chunk)
            except AppError as exc:
                console.print(f"[red]error:[/red] {exc.detail}")
                partial.unlink(missing_ok=True)
                return 1
            bar.update(task, completed=1.0)
        os.replace(partial, out)
    console.print(f"exported workspace {workspace_id} to {out}")
    return 0


async def _importer_id(state: AppState, workspace_id: uuid.UUID, email: str | None) -> uuid.UUID:
    """The named user, or the workspace's first owner: imported documents need an author."""
    async with unit_of_work(state.session_factory) as session:
        if email:
            found = await session.execute(select(User.id).where(User.email == email.lower()))
        else:
            found = await session.execute(
                select(Membership.user_id)
                .where(Membership.workspace_id == workspace_id, Membership.role == "owner")
                .order_by(Membership.joined_at)
                .limit(1)
            )
        user_id = found.scalar_one_or_none()
    if user_id is None:
        raise AppError("No such user (or the workspace has no owner)", code="not_found")
    return user_id


async def import_command(workspace_id: uuid.UUID, files: list[Path], email: str | None) -> int:
    settings = Settings()
    failures = 0
    async with _state(settings) as state:
        try:
            user_id = await _importer_id(state, workspace_id, email)
        except AppError as exc:
            console.print(f"[red]error:[/red] {exc.detail}")
            return 1
        with _bar() as bar:
            for path in files:
                task = bar.add_task(f"Importing {path.name}", total=1.0)

                def advance(fraction: float, task: TaskID = task) -> None:
                    bar.update(task, completed=fraction)

                try:
                    result = await run_import(
                        state, workspace_id, user_id, path, path.name, advance
                    )
                except (AppError, ZipRefused, OSError) as exc:
                    failures += 1
                    detail = exc.detail if isinstance(exc, AppError) else str(exc)
                    bar.update(task, description=f"[red]{path.name}: {detail}")
                    continue
                bar.update(
                    task,
                    completed=1.0,
                    description=f"{path.name}: {len(result['documents'])} documents, "
                    f"{len(result['files'])} files",
                )
    return 1 if failures else 0


def _stepper(bar: Progress) -> Step:
    """A bar per phase of a backup or restore (database, blobs, verify)."""
    tasks: dict[str, TaskID] = {}

    def step(phase: str, done: int, total: int) -> None:
        if phase not in tasks:
            tasks[phase] = bar.add_task(phase.capitalize(), total=max(total, 1))
        bar.update(tasks[phase], completed=done, total=max(total, 1))

    return step


async def backup_command(out: Path) -> int:
    settings = Settings()
    store = create_blob_store(settings)
    with _bar() as bar:
        try:
            report = await create_backup(settings, store, out, _stepper(bar))
        except BackupError as exc:
            console.print(f"[red]error:[/red] {exc}")
            return 2
    console.print(f"backed up the database and {report.blobs} files to {out}")
    for key in report.missing_blobs:
        console.print(f"[yellow]note:[/yellow] blob {key} was deleted while the backup ran")
    return 0


async def restore_command(source: Path) -> int:
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = create_blob_store(settings)
    with _bar() as bar:
        try:
            blobs = await restore_backup(settings, store, source, _stepper(bar))
        except BackupError as exc:
            console.print(f"[red]error:[/red] {exc}")
            return 2
    console.print(f"restored the database and {blobs} files from {source}")
    return 0


def run(coroutine: Coroutine[Any, Any, int]) -> int:
    code = asyncio.run(coroutine)
    sys.stderr.flush()
    return code
