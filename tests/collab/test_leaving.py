"""Edits a client sends just before it closes its socket are kept, even while the server is
still sending to it (a send that finds the client gone must not cut what it said last)."""

from __future__ import annotations

import asyncio

import httpx

from tests.scaleout.yclient import YClient
from tests.support.collab import make_document, stored_text
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx, make_user
from tests.support.redis import eventually
from tests.support.server import ServerProcess

LEAVERS = 5
EDITS = 25
ROUNDS = 3  # the loss this guards against showed in about one round of three


async def one_round(server: ServerProcess, db: TestDatabase, people: list[UserCtx]) -> None:
    document = await make_document(db.url, {person.id: "editor" for person in people})
    doc_id = str(document.document_id)
    reader = await YClient("reader").connect(server.ws_url, doc_id, people[-1].access_token)
    leavers = [
        await YClient(f"l{i}").connect(server.ws_url, doc_id, people[i].access_token)
        for i in range(LEAVERS)
    ]

    async def type_and_leave(index: int, leaver: YClient) -> None:
        for n in range(EDITS):
            await leaver.type(f"[l{index}:{n}]")
        await leaver.close()

    await asyncio.gather(*(type_and_leave(i, leaver) for i, leaver in enumerate(leavers)))
    markers = [f"[l{i}:{n}]" for i in range(LEAVERS) for n in range(EDITS)]
    await eventually(lambda: all(m in reader.content for m in markers), within=10)
    await reader.close()

    async def all_stored() -> bool:
        stored = await stored_text(db.url, document.document_id)
        return all(m in stored for m in markers)

    await eventually(all_stored, within=10)


async def test_edits_typed_right_before_leaving_reach_the_others_and_the_database(
    server: ServerProcess, db: TestDatabase
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        people = [await make_user(client) for _ in range(LEAVERS + 1)]
    for _ in range(ROUNDS):
        await one_round(server, db, people)
