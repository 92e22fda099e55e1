"""The Redis presence store: shared between processes, and a dead process's users vanish."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from redis.asyncio import Redis

from cowrite.presence.store import PresenceEntry
from cowrite.presence.store_redis import DeadEntryHandler, RedisPresenceStore
from tests.support.redis import RedisServer, eventually

pytestmark = pytest.mark.redis

StoreFactory = Callable[..., RedisPresenceStore]


@pytest.fixture
async def make_store(redis_server: RedisServer) -> AsyncIterator[StoreFactory]:
    made: list[tuple[RedisPresenceStore, Redis]] = []

    def factory(
        process_id: str,
        timeout: float = 0.8,
        on_dead_entry: DeadEntryHandler | None = None,
        write_interval: float = 0.25,
    ) -> RedisPresenceStore:
        redis = Redis.from_url(redis_server.url, socket_connect_timeout=0.5, socket_timeout=1)
        store = RedisPresenceStore(
            redis,
            process_id,
            timeout=timeout,
            on_dead_entry=on_dead_entry,
            write_interval=write_interval,
        )
        made.append((store, redis))
        return store

    yield factory
    for store, redis in made:
        await store.close()
        await redis.aclose()


def entry(document_id: uuid.UUID, process_id: str, name: str = "Ada") -> PresenceEntry:
    return PresenceEntry(
        connection_id=uuid.uuid4(),
        user_id=uuid.uuid4(),
        full_name=name,
        session_id=uuid.uuid4(),
        device_type="desktop",
        document_id=document_id,
        process_id=process_id,
    )


async def test_processes_share_entries(make_store: StoreFactory) -> None:
    a, b = make_store("a"), make_store("b")
    await a.start()
    await b.start()
    document_id = uuid.uuid4()
    first, second = entry(document_id, "a", "First"), entry(document_id, "b", "Second")
    await a.add(first)
    await b.add(second)

    listed = await a.list_document(document_id)
    assert [e.full_name for e in listed] == ["First", "Second"]  # oldest first
    assert await b.list_document(document_id) == listed

    cursor = {"line": 3, "column": 7}
    await a.update(document_id, first.connection_id, {"cursor": cursor, "is_editing": True})
    on_b = {e.connection_id: e for e in await b.list_document(document_id)}
    assert on_b[first.connection_id].cursor == cursor
    assert on_b[first.connection_id].is_editing

    removed = await b.remove(document_id, first.connection_id)
    assert removed is not None and removed.full_name == "First"
    assert await b.remove(document_id, first.connection_id) is None
    assert [e.full_name for e in await a.list_document(document_id)] == ["Second"]


async def test_cursor_changes_show_here_at_once_and_elsewhere_once_written(
    make_store: StoreFactory,
) -> None:
    # Long intervals: nothing is written by the background loops, only by the explicit calls.
    a = make_store("a", timeout=600, write_interval=600)
    b = make_store("b", timeout=600, write_interval=600)
    await a.start()
    await b.start()
    document_id = uuid.uuid4()
    mine = entry(document_id, "a")
    await a.add(mine)
    key = (document_id, mine.connection_id)
    for column in range(5):  # a tick's worth of moves, each replacing the last
        await a.update_many({key: {"cursor": {"line": 1, "column": column}}})
    latest = {"line": 1, "column": 4}
    assert (await a.list_document(document_id))[0].cursor == latest
    assert (await b.list_document(document_id))[0].cursor is None  # not written yet

    await a.write_changes()
    assert (await b.list_document(document_id))[0].cursor == latest
    await a.update_many({key: {"selection": {"start": latest, "end": latest}}})
    await a.remove(*key)
    await a.write_changes()  # a removed entry is not written back
    assert await b.list_document(document_id) == []


async def test_unwritten_changes_reach_redis_by_themselves(make_store: StoreFactory) -> None:
    a, b = make_store("a", write_interval=0.05), make_store("b")
    await a.start()
    await b.start()
    document_id = uuid.uuid4()
    mine = entry(document_id, "a")
    await a.add(mine)
    await a.update_many({(document_id, mine.connection_id): {"cursor": {"line": 2, "column": 0}}})

    async def written() -> bool:
        return (await b.list_document(document_id))[0].cursor == {"line": 2, "column": 0}

    await eventually(written)


async def test_a_dead_process_vanishes_and_is_reaped_once(make_store: StoreFactory) -> None:
    reaped: list[tuple[str, uuid.UUID]] = []

    def reaper(name: str, store_ref: list[RedisPresenceStore]) -> DeadEntryHandler:
        async def on_dead_entry(document_id: uuid.UUID, connection_id: uuid.UUID) -> None:
            reaped.append((name, connection_id))
            await store_ref[0].remove(document_id, connection_id)

        return on_dead_entry

    ref_b: list[RedisPresenceStore] = []
    ref_c: list[RedisPresenceStore] = []
    doomed = make_store("doomed")
    b = make_store("b", on_dead_entry=reaper("b", ref_b))
    c = make_store("c", on_dead_entry=reaper("c", ref_c))
    ref_b.append(b)
    ref_c.append(c)
    for store in (doomed, b, c):
        await store.start()
    document_id = uuid.uuid4()
    ghosts = [entry(document_id, "doomed", f"Ghost {i}") for i in range(3)]
    for ghost in ghosts:
        await doomed.add(ghost)
    survivor = entry(document_id, "b", "Survivor")
    await b.add(survivor)
    assert len(await c.list_document(document_id)) == 4

    # The process dies: its beats stop, nothing is cleaned up.
    for task in doomed._tasks:
        task.cancel()

    async def only_survivor_listed() -> bool:
        return [e.full_name for e in await c.list_document(document_id)] == ["Survivor"]

    await eventually(only_survivor_listed, within=5)
    await eventually(lambda: len(reaped) == 3, within=5)
    assert {connection_id for _, connection_id in reaped} == {g.connection_id for g in ghosts}
    await asyncio.sleep(3 * b.reap_seconds)  # more sweeps find nothing left to reap
    assert len(reaped) == 3


async def test_entries_come_back_after_a_redis_restart(
    make_store: StoreFactory, redis_server: RedisServer
) -> None:
    a, b = make_store("a"), make_store("b")
    await a.start()
    await b.start()
    document_id = uuid.uuid4()
    mine = entry(document_id, "a")
    await a.add(mine)

    redis_server.stop()
    # Redis is away: the process keeps serving from its own entries.
    other = entry(document_id, "a", "Joined during the outage")
    await a.add(other)
    assert [e.full_name for e in await a.list_document(document_id)] == [
        "Ada",
        "Joined during the outage",
    ]
    await a.update(document_id, mine.connection_id, {"is_editing": True})

    redis_server.start()  # empty: no persistence

    async def both_back_on_b() -> bool:
        return len(await b.list_document(document_id)) == 2

    await eventually(both_back_on_b, within=5)
    listed = {e.connection_id: e for e in await b.list_document(document_id)}
    assert listed[mine.connection_id].is_editing
