"""The saved content is dated when its text was read from the room: an update accepted after
that, even if committed in the same flush, stays ahead of it, so a process without the room
reads it from the log instead of taking the content as current."""

from __future__ import annotations

from typing import Any

from pycrdt import Text

from cowrite.collab import repository
from cowrite.collab.protocol import SyncUpdate
from cowrite.db import create_engine, create_session_factory, unit_of_work
from cowrite.documents.access import document_grant
from cowrite.workspaces.roles import Role
from tests.collab.conftest import ServiceFactory
from tests.collab.fakes import FakePeer, edit
from tests.support.collab import make_document
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx


async def _joined_room(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> tuple[Any, Any, Any, FakePeer]:
    """An empty document's room, saved only when asked, with the owner joined to it."""
    doc = await make_document(db.url, {user.id: "owner"}, content="")
    service = await collab(yjs_content_sync_seconds=60)
    room = await service.open_room(doc.document_id)
    peer = FakePeer(user_id=user.id)
    service.join(room, peer)
    return doc, service, room, peer


async def test_an_update_after_the_content_was_read_stays_ahead_of_it(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    doc, service, room, peer = await _joined_room(db, user, collab)
    client, update = edit(room.doc.get_update(), 0, "saved")
    room.receive(peer, SyncUpdate(update))
    service._sync_content(room)  # the content's text is read now (as its timer does)...
    before = client.get_state()
    client.get("content", type=Text).insert(5, " late")
    room.receive(peer, SyncUpdate(client.get_update(before)))  # ...this arrives before the flush
    await service.log.flush()

    engine = create_engine(db.url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            grant = await document_grant(
                session, user.id, doc.document_id, Role.VIEWER, with_tags=True
            )
            assert grant.document.content == "saved"
            assert grant.content_behind  # so a reader builds the body from the log
            assert await service.stored_markdown(session, doc.document_id) == "saved late"
    finally:
        await engine.dispose()


async def test_a_compaction_before_the_content_catches_up_keeps_it_behind(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    """Compaction moves the log rows into the snapshot; a reader must still see that they are
    ahead of the saved content until the content is saved again."""
    doc, service, room, peer = await _joined_room(db, user, collab)
    client, update = edit(room.doc.get_update(), 0, "saved")
    room.receive(peer, SyncUpdate(update))
    service._sync_content(room)
    before = client.get_state()
    client.get("content", type=Text).insert(5, " late")
    room.receive(peer, SyncUpdate(client.get_update(before)))
    await service.log.flush()

    engine = create_engine(db.url)
    try:
        factory = create_session_factory(engine)
        async with unit_of_work(factory) as session:
            assert await repository.compact(session, doc.document_id) > 0
        async with unit_of_work(factory) as session:
            assert await repository.log_updates(session, doc.document_id) == []
            grant = await document_grant(
                session, user.id, doc.document_id, Role.VIEWER, with_tags=True
            )
            assert grant.document.content == "saved"
            assert grant.content_behind
            assert await service.stored_markdown(session, doc.document_id) == "saved late"
    finally:
        await engine.dispose()


async def test_a_document_whose_content_holds_everything_is_not_behind_after_compaction(
    db: TestDatabase, user: UserCtx, collab: ServiceFactory
) -> None:
    doc, service, room, peer = await _joined_room(db, user, collab)
    _, update = edit(room.doc.get_update(), 0, "all of it")
    room.receive(peer, SyncUpdate(update))
    await service.log.flush()
    service._sync_content(room)
    await service.log.flush()

    engine = create_engine(db.url)
    try:
        factory = create_session_factory(engine)
        async with unit_of_work(factory) as session:
            await repository.compact(session, doc.document_id)
        async with unit_of_work(factory) as session:
            grant = await document_grant(
                session, user.id, doc.document_id, Role.VIEWER, with_tags=True
            )
            assert grant.document.content == "all of it"
            assert not grant.content_behind
    finally:
        await engine.dispose()
