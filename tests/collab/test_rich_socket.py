"""`/ws/yjs` on rich documents: the fragment is shared, and a tree deeper or bigger than the
limits is refused with a close code the stock client treats as final."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from cowrite.collab import protocol
from cowrite.richtext.fragment import to_json
from tests.conftest import server_env
from tests.support.collab import DocCtx, make_document
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx, make_user
from tests.support.server import ServerProcess

MAX_NODES = 100


@pytest.fixture
def rich_server(db: TestDatabase, tmp_path: Path) -> Iterator[ServerProcess]:
    env = server_env(db, tmp_path / "data", COWRITE_RICH_MAX_NODES=str(MAX_NODES))
    process = ServerProcess(env=env, workdir=tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture
async def owner(rich_server: ServerProcess) -> AsyncIterator[UserCtx]:
    async with httpx.AsyncClient(base_url=rich_server.base_url, timeout=30) as http:
        yield await make_user(http)


@pytest.fixture
async def document(db: TestDatabase, owner: UserCtx) -> DocCtx:
    return await make_document(db.url, {owner.id: "owner"}, content="intact", format="rich")


def _url(server: ServerProcess, document: DocCtx, owner: UserCtx) -> str:
    return f"{server.ws_url}/ws/yjs/{document.document_id}?token={owner.access_token}"


async def _synced(ws: ClientConnection, doc: Doc) -> None:
    await ws.send(protocol.sync_step1(b"\x00"))
    async with asyncio.timeout(10):
        while True:
            frame = await ws.recv()
            assert isinstance(frame, bytes)
            for message in protocol.parse_frame(frame):
                if isinstance(message, protocol.SyncStep2):
                    doc.apply_update(message.update)
                    return


async def _until_text(ws: ClientConnection, doc: Doc, needle: str) -> None:
    fragment = doc.get("default", type=XmlFragment)
    async with asyncio.timeout(10):
        while needle not in str(fragment):
            frame = await ws.recv()
            assert isinstance(frame, bytes)
            for message in protocol.parse_frame(frame):
                if isinstance(message, protocol.SyncUpdate):
                    doc.apply_update(message.update)


def _paragraphs(count: int, word: str) -> bytes:
    doc: Doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    for _ in range(count):
        paragraph = fragment.children.append(XmlElement("paragraph"))
        paragraph.children.append(XmlText(word))
    return doc.get_update()


def _nested(depth: int) -> bytes:
    doc: Doc = Doc()
    parent: XmlFragment | XmlElement = doc.get("default", type=XmlFragment)
    for _ in range(depth):
        parent = parent.children.append(XmlElement("blockquote"))
    paragraph = parent.children.append(XmlElement("paragraph"))
    paragraph.children.append(XmlText("deep"))
    return doc.get_update()


async def test_a_tree_beyond_the_limits_is_refused_for_good(
    rich_server: ServerProcess, document: DocCtx, owner: UserCtx
) -> None:
    url = _url(rich_server, document, owner)
    async with connect(url) as bystander:
        seen: Doc = Doc()
        await _synced(bystander, seen)
        assert to_json(seen.get("default", type=XmlFragment))["content"][0]["content"] == [
            {"type": "text", "text": "intact"}
        ]
        offences = [
            (_nested(70), "deeper than 64"),
            (_paragraphs(MAX_NODES + 1, "many"), "100 nodes"),
        ]
        for update, reason in offences:
            async with connect(url) as offender:
                await _synced(offender, Doc())
                try:
                    await offender.send(protocol.sync_update(update))
                    async with asyncio.timeout(10):
                        while True:
                            await offender.recv()
                except ConnectionClosed as closed:
                    assert closed.rcvd is not None
                    assert closed.rcvd.code == 4413
                    assert reason in closed.rcvd.reason
        # Within the limits, edits still flow; the refused trees never arrived.
        async with connect(url) as writer:
            await _synced(writer, Doc())
            await writer.send(protocol.sync_update(_paragraphs(3, "fine")))
            await _until_text(bystander, seen, "fine")
        assert "many" not in str(seen.get("default", type=XmlFragment))
        assert "deep" not in str(seen.get("default", type=XmlFragment))


@pytest.fixture
def small_server(db: TestDatabase, tmp_path: Path) -> Iterator[ServerProcess]:
    env = server_env(db, tmp_path / "data", COWRITE_MAX_DOCUMENT_BYTES=str(MAX_BYTES))
    process = ServerProcess(env=env, workdir=tmp_path)
    process.start()
    try:
        yield process
    finally:
        process.stop()


MAX_BYTES = 4000


async def test_a_rich_document_stays_within_the_size_limit(
    small_server: ServerProcess, db: TestDatabase
) -> None:
    async with httpx.AsyncClient(base_url=small_server.base_url, timeout=30) as http:
        owner = await make_user(http)
    document = await make_document(db.url, {owner.id: "owner"}, content="intact", format="rich")
    url = _url(small_server, document, owner)
    async with connect(url) as bystander:
        seen: Doc = Doc()
        await _synced(bystander, seen)
        # Few nodes, but each holds a long text: the node limits allow it, the byte limit not.
        async with connect(url) as offender:
            await _synced(offender, Doc())
            try:
                await offender.send(protocol.sync_update(_paragraphs(3, "x" * MAX_BYTES)))
                async with asyncio.timeout(10):
                    while True:
                        await offender.recv()
            except ConnectionClosed as closed:
                assert closed.rcvd is not None
                assert closed.rcvd.code == 4413
                assert f"would pass {MAX_BYTES} bytes" in closed.rcvd.reason
        # Text that fits is still taken, and shared; the refused one never arrived.
        async with connect(url) as writer:
            await _synced(writer, Doc())
            await writer.send(protocol.sync_update(_paragraphs(3, "fits")))
            await _until_text(bystander, seen, "fits")
        assert "xxxx" not in str(seen.get("default", type=XmlFragment))
