"""Apply and inspect Alembic migrations programmatically (used by the CLI and tests)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from cowrite.db import create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
log = logging.getLogger(__name__)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url)
    return config


async def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (runs Alembic in a worker thread); what it
    did is logged as one line."""
    config = alembic_config(url)
    before = await current_revision(url)
    await asyncio.to_thread(command.upgrade, config, revision)
    after = await current_revision(url)
    if after != before:
        script = ScriptDirectory.from_config(config)
        steps = sum(1 for _ in script.iterate_revisions(after, before))
        log.info(
            "database migrated from %s to %s (%d step%s)",
            before or "empty",
            after,
            steps,
            "" if steps == 1 else "s",
        )


def head_revision() -> str | None:
    """The newest migration this version of cowrite ships."""
    return ScriptDirectory.from_config(alembic_config("")).get_current_head()


async def current_revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:

            def _current(sync_connection: Connection) -> str | None:
                return MigrationContext.configure(sync_connection).get_current_revision()

            return await connection.run_sync(_current)
    finally:
        await engine.dispose()
