"""Rooms over the real database: loading and seeding once, the log, compaction, REST writes,
unloading, and access changes reaching open sockets."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import delete, func, select, update

from cowrite.broker.memory import MemoryBroker, MemoryBus
from cowrite.collab import protocol
from cowrite.collab.protocol import SyncUpdate
from cowrite.db import create_engine, create_session_factory, unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.kit.events import DocumentTrashed, LoginsRevoked, MembershipChanged, WorkspaceDeleted
from cowrite.models import DocumentVersion, Membership, UserSession, YSnapshot, YUpdate
from tests.collab.conftest import ServiceFactory
from tests.collab.fakes import FakePeer, edit
from tests.support.collab import DocCtx, document_content, make_document, stored_text
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx


async def _count(db: TestDatabase, model: type, document_id: uuid.UUID) -> int:
    engine = create_engine(db.url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            column = model.document_id  # type: ignore[attr-defined]
            query = select(func.count()).select_from(model).where(column == document_id)
            return int((await session.execute(query)).scalar_one())
    finally:
        await engine.dispose()


async def _versions(db: TestDatabase, document_id: uuid.UUID) -> list[DocumentVersion]:
    engine = create_engine(db.url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            query = select(DocumentVersion).where(DocumentVersion.document_id == document_id)
            return list((await session.execute(query)).scalars())
    finally:
        await engine.dispose()


async def _doc(db: TestDatabase, user: UserCtx, content: str = "", role: str = "owner") -> DocCtx:
    return await make_document(db.url, {user.id: role}, content=content)


async def test_concurrent_openers_share_one_load_and_two_processes_seed_once(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    doc = await _doc(db, user, content="Seeded body")
    first, second = await collab(), await collab()
    rooms = await asyncio.gather(
        *(first.open_room(doc.document_id) for _ in range(5)),
        *(second.open_room(doc.document_id) for _ in range(5)),
    )
    assert len({id(room) for room in rooms[:5]}) == 1
    assert len({id(room) for room in rooms[5:]}) == 1
    assert {str(room.text) for room in rooms} == {"Seeded body"}
    assert await _count(db, YSnapshot, doc.document_id) == 1


async def test_accepted_updates_are_committed_then_compacted(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    doc = await _doc(db, user)
    service = await collab(yjs_compact_threshold=5)
    room = await service.open_room(doc.document_id)
    peer = FakePeer(user_id=user.id)
    service.join(room, peer)
    state = None
    for index in range(12):
        client, update = edit(state, index, str(index % 10))
        state = client.get_update()
        room.receive(peer, SyncUpdate(update))
        await service.log.flush()
        await service.log._compact_due()
    assert await _count(db, YUpdate, doc.document_id) <= 5
    assert await stored_text(db.url, doc.document_id) == "012345678901"
    assert service.state.metrics.yjs_commit_lag._sum.get() > 0  # observed per update
    reloaded = await collab()
    assert str((await reloaded.open_room(doc.document_id)).text) == "012345678901"


async def test_the_last_leave_writes_the_content_and_unloads_the_room(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    doc = await _doc(db, user, content="old")
    service = await collab(yjs_content_sync_seconds=60)
    room = await service.open_room(doc.document_id)
    peer = FakePeer(user_id=user.id)
    service.join(room, peer)
    _, update = edit(room.doc.get_update(), 3, " and new")
    room.receive(peer, SyncUpdate(update))
    service.leave(room, peer)
    for _ in range(100):
        if doc.document_id not in service.rooms:
            break
        await asyncio.sleep(0.02)
    assert doc.document_id not in service.rooms
    assert await document_content(db.url, doc.document_id) == "old and new"
    versions = await _versions(db, doc.document_id)
    assert [(v.source, v.author_id, v.content_size) for v in versions] == [
        ("yjs", user.id, len("old and new"))
    ]


async def test_rest_writes_merge_into_the_live_text_and_keep_concurrent_edits(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    doc = await _doc(db, user, content="Hello world")
    service = await collab()
    room = await service.open_room(doc.document_id)
    peer = FakePeer(user_id=user.id)
    service.join(room, peer)
    # A client typed "!" at the same time; its update arrives after the REST write.
    _, concurrent = edit(room.doc.get_update(), 11, "!")
    async with unit_of_work(service.state.session_factory) as session:
        text = await service.replace_text(session, doc.document_id, "Hello brave world", user.id)
    assert text == "Hello brave world"
    room.receive(peer, SyncUpdate(concurrent))
    assert str(room.text) == "Hello brave world!"
    room.flush()
    assert any(
        isinstance(message, SyncUpdate)
        for frame in peer.frames
        for message in protocol.parse_frame(frame)
    )
    await service.log.flush()
    assert await stored_text(db.url, doc.document_id) == "Hello brave world!"


async def test_rest_writes_without_a_live_room_seed_and_append(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    doc = await _doc(db, user, content="draft ✓ one")
    service = await collab()
    async with unit_of_work(service.state.session_factory) as session:
        text = await service.replace_text(session, doc.document_id, "draft ✓ two", user.id)
    assert text == "draft ✓ two"
    assert await stored_text(db.url, doc.document_id) == "draft ✓ two"
    room = await service.open_room(doc.document_id)
    assert str(room.text) == "draft ✓ two"


async def test_access_changes_reach_open_peers_at_once(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    doc = await _doc(db, user)
    service = await collab()
    room = await service.open_room(doc.document_id)
    peers = [FakePeer(user_id=user.id) for _ in range(4)]
    for peer in peers:
        service.join(room, peer)
    events = service.state.events

    async def change_role(role: str | None) -> None:
        """Commit the change, then announce it, as the membership service does."""
        engine = create_engine(db.url)
        try:
            async with unit_of_work(create_session_factory(engine)) as session:
                where = (Membership.workspace_id == doc.workspace_id) & (
                    Membership.user_id == user.id
                )
                if role is None:
                    await session.execute(delete(Membership).where(where))
                else:
                    await session.execute(update(Membership).where(where).values(role=role))
        finally:
            await engine.dispose()
        await events.emit(MembershipChanged(doc.workspace_id, user.id, role))

    await change_role("viewer")
    assert not any(peer.can_write for peer in peers)
    await change_role("editor")
    assert all(peer.can_write for peer in peers)
    await events.emit(LoginsRevoked(user.id, (peers[0].login_id,)))  # type: ignore[arg-type]
    assert peers[0].closed_with == 4401 and peers[1].closed_with is None
    await events.emit(MembershipChanged(doc.workspace_id, uuid.uuid4(), None))
    assert peers[1].closed_with is None
    await change_role(None)
    assert peers[1].closed_with == 4403


async def test_trash_and_workspace_deletion_close_with_4404(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    trashed, deleted = await _doc(db, user), await _doc(db, user)
    service = await collab()
    in_trashed, in_deleted = FakePeer(user_id=user.id), FakePeer(user_id=user.id)
    service.join(await service.open_room(trashed.document_id), in_trashed)
    service.join(await service.open_room(deleted.document_id), in_deleted)
    await service.state.events.emit(DocumentTrashed(trashed.document_id, trashed.workspace_id))
    assert in_trashed.closed_with == 4404 and in_deleted.closed_with is None
    await service.state.events.emit(WorkspaceDeleted(deleted.workspace_id))
    assert in_deleted.closed_with == 4404


async def test_live_yjs_sessions_are_kept_fresh(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    doc = await _doc(db, user)
    service = await collab(session_touch_interval_seconds=0.05)
    peer = FakePeer(user_id=user.id)
    engine = create_engine(db.url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            stale = utcnow() - timedelta(hours=1)
            session.add(
                UserSession(
                    connection_id=peer.connection_id,
                    user_id=user.id,
                    channel="yjs",
                    process_id=service.state.process_id,  # as the socket's admission writes it
                    last_seen_at=stale,
                )
            )
        service.join(await service.open_room(doc.document_id), peer)
        for _ in range(100):
            await asyncio.sleep(0.02)
            async with unit_of_work(create_session_factory(engine)) as session:
                row = await session.get(UserSession, peer.connection_id)
                assert row is not None
                if row.last_seen_at > stale + timedelta(minutes=30):
                    break
        assert row.last_seen_at > stale + timedelta(minutes=30)
    finally:
        await engine.dispose()


async def test_a_rest_write_in_one_process_reaches_a_room_open_in_another(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    doc = await _doc(db, user, content="base")
    bus = MemoryBus()
    editing, rest = await collab(), await collab()
    for service in (editing, rest):
        await service.state.broker.close()
        service.state.broker = MemoryBroker(service.state.process_id, bus)
        await service.state.broker.start()
    room = await editing.open_room(doc.document_id)
    peer = FakePeer(user_id=user.id)
    editing.join(room, peer)
    async with unit_of_work(rest.state.session_factory) as session:
        await rest.replace_text(session, doc.document_id, "base, edited over REST", user.id)
    assert str(room.text) == "base, edited over REST"
    room.flush()
    assert any(b", edited over REST" in frame for frame in peer.frames)


async def test_an_access_change_during_admission_is_not_missed(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    doc = await _doc(db, user)
    service = await collab()
    access = service.state.access
    with access.admitting() as demoted, access.admitting() as bystander:
        demoted.user_id, bystander.user_id = user.id, uuid.uuid4()
        # The change lands after the grant was read but before the peer joined its room.
        await service.state.events.emit(MembershipChanged(doc.workspace_id, user.id, "viewer"))
    assert demoted.changed is True  # the socket reads its grant again
    assert bystander.changed is False
