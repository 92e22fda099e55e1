"""A demotion racing a socket's admission, against a real server: the role change lands after
the server read the editor's grant and before the socket joined its room. The server is held
in that window by a row lock on the document's first snapshot (PostgreSQL: an uncommitted
insert of the same key makes the room's seeding wait), released once the change is made."""

from __future__ import annotations

import uuid

import httpx
import pytest
from pycrdt import Doc, Text
from sqlalchemy import insert, text
from websockets.asyncio.client import connect

from cowrite.collab import protocol
from cowrite.db import create_engine
from cowrite.kit.clock import utcnow
from cowrite.models import YSnapshot
from tests.edge.conftest import WAIT, Room, insert_update, synced_doc, text_of, yjs_url
from tests.support.collab import stored_text
from tests.support.databases import TestDatabase
from tests.support.redis import eventually
from tests.support.server import ServerProcess

WAITING_ON_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity"
    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def _someone_waits_on_a_lock(database: TestDatabase) -> bool:
    engine = create_engine(database.url)
    try:
        async with engine.connect() as connection:
            return bool((await connection.execute(WAITING_ON_A_LOCK)).scalar_one())
    finally:
        await engine.dispose()


async def _stored_contains(database: TestDatabase, document_id: uuid.UUID, part: str) -> bool:
    return part in await stored_text(database.url, document_id)


async def test_a_demotion_between_admission_and_join_refuses_the_first_update(
    edge_server: ServerProcess, room: Room, database: TestDatabase
) -> None:
    if database.backend != "postgres":
        pytest.skip("the window is held open by a PostgreSQL row lock (SQLite locks the file)")
    document_id = uuid.UUID(room.document_id)
    sneaky: Doc = Doc()
    sneaky.get("content", type=Text)
    update = insert_update(sneaky, "written by a viewer ")
    engine = create_engine(database.url)
    try:
        async with engine.connect() as blocker:
            held = await blocker.begin()
            seed = {"state": b"\x00\x00", "last_update_id": 0, "updated_at": utcnow()}
            await blocker.execute(insert(YSnapshot).values(document_id=document_id, **seed))
            url = yjs_url(edge_server, room.document_id, room.editor.access_token)
            async with connect(url) as ws:
                # Admitted as an editor; now the room's load waits for the row lock.
                await eventually(lambda: _someone_waits_on_a_lock(database), WAIT)
                await ws.send(protocol.sync_update(update))
                async with httpx.AsyncClient(base_url=edge_server.base_url) as http:
                    demoted = await http.patch(
                        f"/api/v1/workspaces/{room.doc.workspace_id}/members/{room.editor.id}",
                        json={"role": "viewer"},
                        headers=room.owner.headers,
                    )
                assert demoted.status_code == 200
                await held.rollback()
                # Asked after the update was sent, so answered after it was handled.
                assert text_of(await synced_doc(ws)) == "intact"
        async with connect(yjs_url(edge_server, room.document_id, room.owner.access_token)) as ws:
            doc = await synced_doc(ws)
            assert text_of(doc) == "intact"
            await ws.send(protocol.sync_update(insert_update(doc, " and the owner's")))
            # Written in order: had the viewer's update been taken, it would be stored first.
            await eventually(lambda: _stored_contains(database, document_id, "owner"), WAIT)
        assert await stored_text(database.url, document_id) == "intact and the owner's"
    finally:
        await engine.dispose()
