"""A call's places across two processes sharing Redis: the last place goes to one joiner only,
and the place of a participant whose process died frees up once its entry is gone."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.calls.peers import Cast, make_cast
from tests.calls.support import in_document, join_call, kept_alive
from tests.conftest import server_env
from tests.scaleout.conftest import CLUSTER_SETTINGS, Cluster, running_cluster
from tests.support.databases import TestDatabase
from tests.support.presence import WAIT, WsClient
from tests.support.redis import RedisServer, redis_server

__all__ = ["redis_server"]

pytestmark = [pytest.mark.redis, pytest.mark.parametrize("database", ["postgres"], indirect=True)]


@pytest.fixture
def two_places(db: TestDatabase, redis_server: RedisServer, tmp_path: Path) -> Iterator[Cluster]:
    """Two `cowrite serve` processes whose calls hold two people."""
    env = server_env(
        db,
        tmp_path / "data",
        COWRITE_REDIS_URL=redis_server.url,
        COWRITE_CALL_MAX_PARTICIPANTS="2",
        **CLUSTER_SETTINGS,
    )
    with running_cluster(env, redis_server, tmp_path, timeout=90) as started:
        yield started


async def three_in_document(cluster: Cluster) -> tuple[Cast, WsClient, WsClient, WsClient]:
    """The owner and the viewer on process A, the editor on B, all in one new document."""
    a, b = cluster.a, cluster.b
    cast = await make_cast(a.base_url)
    doc = cast.document_id
    owner = await in_document(a.ws_url, cast.owner.access_token, doc)
    viewer = await in_document(a.ws_url, cast.viewer.access_token, doc)
    editor = await in_document(b.ws_url, cast.editor.access_token, doc)
    return cast, owner, viewer, editor


async def leave_call(client: WsClient, document_id: uuid.UUID) -> None:
    left = await client.request(
        {"type": "call_leave", "document_id": str(document_id)}, "call_left"
    )
    assert left["type"] == "call_left", left


async def test_the_last_place_goes_to_one_of_two_processes(two_places: Cluster) -> None:
    cast, owner, on_a, on_b = await three_in_document(two_places)
    doc = cast.document_id
    clients = (owner, on_a, on_b)
    try:
        async with kept_alive(*clients):
            assert (await join_call(owner, doc))["type"] == "call_state"
            # Each round, one person on each process asks for the one place left at once.
            for _ in range(5):
                answers = await asyncio.gather(join_call(on_a, doc), join_call(on_b, doc))
                kinds = sorted(str(answer["type"]) for answer in answers)
                assert kinds == ["call_state", "error"], answers
                refused = next(answer for answer in answers if answer["type"] == "error")
                assert refused["code"] == "call_full", refused
                admitted = on_a if answers[0]["type"] == "call_state" else on_b
                await leave_call(admitted, doc)
    finally:
        for client in clients:
            await client.close()


async def test_a_dead_process_gives_its_places_back(two_places: Cluster) -> None:
    cast, owner, waiting, on_b = await three_in_document(two_places)
    doc = cast.document_id
    try:
        async with kept_alive(owner, waiting):
            assert (await join_call(owner, doc))["type"] == "call_state"
            assert (await join_call(on_b, doc))["type"] == "call_state"
            full = await join_call(waiting, doc)
            assert full["type"] == "error" and full["code"] == "call_full", full

            # No leave, no close: its entries stay in Redis until they are found dead.
            two_places.b.kill()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WAIT * 2
            while True:
                answer = await join_call(waiting, doc)
                if answer["type"] == "call_state":
                    break
                assert answer["code"] == "call_full", answer
                assert loop.time() < deadline, "the dead process's place never freed"
                await asyncio.sleep(0.5)  # (refusals count towards the 1008 close)
            ids = {p["connection_id"] for p in answer["participants"]}
            assert ids == {owner.connection_id, waiting.connection_id}
    finally:
        await owner.close()
        await waiting.close()
        with contextlib.suppress(Exception):
            await on_b.close()


async def test_a_rejoin_on_the_other_process_frees_the_old_place(two_places: Cluster) -> None:
    cast, owner, _, old = await three_in_document(two_places)
    doc = cast.document_id
    try:
        async with kept_alive(owner, old):
            assert (await join_call(owner, doc))["type"] == "call_state"
            assert (await join_call(old, doc))["type"] == "call_state"
            # The editor's page lost its socket to B and came back through A; the call is full,
            # but the place it rejoins is its own.
            new = await in_document(two_places.a.ws_url, cast.editor.access_token, doc)
            async with kept_alive(new):
                state = await new.request(
                    {"type": "call_join", "document_id": str(doc), "replaces": old.connection_id},
                    "call_state",
                )
                assert state["type"] == "call_state", state
                ids = {p["connection_id"] for p in state["participants"]}
                assert ids == {owner.connection_id, new.connection_id}
                left = await old.expect("call_left", connection_id=old.connection_id)
                assert left["reason"] == "ended_elsewhere"
                await owner.expect("call_left", connection_id=old.connection_id)
            await new.close()
    finally:
        await owner.close()
        await old.close()
