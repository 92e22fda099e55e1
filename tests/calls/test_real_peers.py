"""Real WebRTC peers (aiortc) negotiating through a real `cowrite serve`, on one process and on
two processes sharing Redis: a data-channel message and video frames cross over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.calls.peers import RtcPeer, make_cast, negotiate_and_talk
from tests.calls.support import frames_until_pong, in_document, join_call
from tests.conftest import server_env
from tests.scaleout.conftest import Cluster, cluster, cluster_env
from tests.support.databases import TestDatabase
from tests.support.presence import WsClient
from tests.support.redis import redis_server
from tests.support.server import ServerProcess

__all__ = ["cluster", "cluster_env", "redis_server"]


@pytest.fixture
def server(db: TestDatabase, tmp_path: Path) -> Iterator[ServerProcess]:
    """A real `cowrite serve`, given time to start on a busy machine."""
    process = ServerProcess(env=server_env(db, tmp_path / "data"), workdir=tmp_path)
    process.start(timeout=90)
    try:
        yield process
    finally:
        process.stop()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_two_peers_talk_through_one_server(server: ServerProcess) -> None:
    cast = await make_cast(server.base_url)
    doc = cast.document_id
    # A member of the document who stays out of the call, and an outsider.
    bystander = await in_document(server.ws_url, cast.viewer.access_token, doc)
    outsider = await WsClient.open(server.ws_url, cast.outsider.access_token)
    refused = await join_call(outsider, doc)
    assert refused["code"] == "not_found"

    owner = await RtcPeer.join(server.ws_url, cast.owner, doc)
    editor = await RtcPeer.join(server.ws_url, cast.editor, doc)
    try:
        await negotiate_and_talk(owner, editor)
        heard = await frames_until_pong(bystander) + await frames_until_pong(outsider)
        assert not [e for e in heard if e["type"] == "rtc_signal"]

        # The editor is removed from the workspace: out of the call, and the owner hears it.
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            removed = await http.delete(
                f"/api/v1/workspaces/{cast.workspace_id}/members/{cast.editor.id}",
                headers=cast.owner.headers,
            )
            assert removed.status_code == 204
        await owner.ws.expect("call_left", connection_id=editor.connection_id)
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            listed = await http.get(f"/api/v1/presence/document/{doc}", headers=cast.owner.headers)
        in_call = [u["connection_id"] for u in listed.json()["users"] if u["call"]]
        assert in_call == [owner.connection_id]
    finally:
        await owner.close()
        await editor.close()
        await bystander.close()
        await outsider.close()


@pytest.mark.redis
@pytest.mark.parametrize("database", ["postgres"], indirect=True)
async def test_two_peers_talk_across_two_processes(cluster: Cluster) -> None:
    cast = await make_cast(cluster.a.base_url)
    doc = cast.document_id
    bystander = await in_document(cluster.b.ws_url, cast.viewer.access_token, doc)
    owner = await RtcPeer.join(cluster.a.ws_url, cast.owner, doc)
    editor = await RtcPeer.join(cluster.b.ws_url, cast.editor, doc)
    try:
        # Each process sees the other's participant.
        await owner.ws.expect("call_joined", connection_id=editor.connection_id)
        await negotiate_and_talk(owner, editor)
        heard = await frames_until_pong(bystander)
        assert not [e for e in heard if e["type"] == "rtc_signal"]
        assert {e["connection_id"] for e in heard if e["type"] == "call_joined"} >= {
            editor.connection_id
        }

        # Closing the socket on process B leaves the call; process A's participant hears it.
        await editor.close()
        await owner.ws.expect("call_left", connection_id=editor.connection_id)
    finally:
        await owner.close()
        await editor.close()
        await bystander.close()
