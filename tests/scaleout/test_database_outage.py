"""PostgreSQL going away under a live room: edits stay in memory, are saved when it returns,
and a shutdown during the outage says exactly what it could not save."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from pycrdt import Doc, Text
from sqlalchemy import make_url, select

from cowrite.db import create_engine
from cowrite.models import YSnapshot, YUpdate
from tests.conftest import server_env
from tests.scaleout.scenes import make_scene
from tests.scaleout.test_failures import type_words
from tests.scaleout.yclient import YClient
from tests.support.databases import TestDatabase
from tests.support.proxy import CuttableProxy
from tests.support.redis import eventually
from tests.support.server import ServerProcess

pytestmark = pytest.mark.parametrize("database", ["postgres"], indirect=True)


@dataclass
class Proxied:
    server: ServerProcess
    proxy: CuttableProxy


@pytest.fixture
def proxied(db: TestDatabase, tmp_path: Path) -> Iterator[Proxied]:
    """One server whose database connections all pass through a proxy the test can cut."""
    url = make_url(db.url)
    proxy = CuttableProxy(url.host or "127.0.0.1", url.port or 5432).start()
    through_proxy = url.set(port=proxy.port).render_as_string(hide_password=False)
    env = server_env(
        db,
        tmp_path / "data",
        COWRITE_DATABASE_URL=through_proxy,
        COWRITE_SHUTDOWN_SAVE_SECONDS="1",
    )
    server = ServerProcess(env=env, workdir=tmp_path)
    try:
        server.start()
        yield Proxied(server, proxy)
    finally:
        server.stop()
        proxy.close()


async def stored_text(db: TestDatabase, document_id: str) -> str:
    """The document's body as the database holds it (snapshot + log), read directly."""
    engine = create_engine(db.url)
    try:
        async with engine.connect() as connection:
            snapshot = (
                await connection.execute(
                    select(YSnapshot.state).where(YSnapshot.document_id == document_id)
                )
            ).scalar_one_or_none()
            rows = (
                await connection.execute(
                    select(YUpdate.data)
                    .where(YUpdate.document_id == document_id)
                    .order_by(YUpdate.id)
                )
            ).scalars()
            doc: Doc = Doc()
            for update in [snapshot, *rows]:
                if update:
                    doc.apply_update(update)
            return str(doc.get("content", type=Text))
    finally:
        await engine.dispose()


async def ready_status(server: ServerProcess) -> int:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as client:
        return (await client.get("/ready")).status_code


async def test_edits_during_an_outage_are_saved_when_it_ends(
    proxied: Proxied, db: TestDatabase
) -> None:
    server = proxied.server
    scene = await make_scene(server)
    writer = await YClient("writer").connect(
        server.ws_url, scene.document_id, scene.owner.access_token
    )
    words = await type_words(writer, "before", 3)

    proxied.proxy.cut()

    async def unready() -> bool:
        return await ready_status(server) == 503

    await eventually(unready)
    words += await type_words(writer, "during", 10)  # accepted into the live room
    await asyncio.sleep(1)  # several failed flushes, retried with back-off
    assert server.process is not None and server.process.poll() is None

    proxied.proxy.restore()

    async def ready() -> bool:
        return await ready_status(server) == 200

    await eventually(ready)

    async def all_saved() -> bool:
        text = await stored_text(db, scene.document_id)
        return all(word in text for word in words)

    await eventually(all_saved, within=15)
    await writer.close()


async def test_sigterm_during_an_outage_reports_what_was_not_saved(proxied: Proxied) -> None:
    server = proxied.server
    scene = await make_scene(server)
    writer = await YClient("writer").connect(
        server.ws_url, scene.document_id, scene.owner.access_token
    )
    await type_words(writer, "saved", 2)
    proxied.proxy.cut()
    await type_words(writer, "unsaved", 5)
    await asyncio.sleep(0.3)

    server.stop(timeout=30)
    assert server.process is not None and server.process.returncode is not None
    logs = server.logs()
    assert "NOT SAVED" in logs
    assert scene.document_id in logs
    assert "merged_update_b64" in logs
    await writer.close()
