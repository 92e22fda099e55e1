"""cowrite behind the nginx of docs/deploy/: REST and both sockets over TLS, and client
addresses believed from the proxy only."""

from __future__ import annotations

import json
import ssl

import httpx
import pytest
import websockets

from tests.ops.conftest import Proxied
from tests.support.collab import make_document, run_node
from tests.support.databases import TestDatabase
from tests.support.factories import login, make_user
from tests.support.redis import eventually

pytestmark = pytest.mark.interop

SPOOFED = "203.0.113.9"


async def test_rest_over_tls_records_the_client_behind_the_proxy_never_a_spoofed_one(
    proxied: Proxied, tls: ssl.SSLContext
) -> None:
    spoof = {"X-Forwarded-For": SPOOFED}
    async with httpx.AsyncClient(base_url=proxied.nginx.base_url, verify=tls, headers=spoof) as via:
        user = await make_user(via)
        created = await via.post("/api/v1/workspaces", json={"name": "Ops"}, headers=user.headers)
        assert created.status_code == 201, created.text
    # The same person also signs in straight at the server, spoofing again.
    async with httpx.AsyncClient(base_url=proxied.servers[0].base_url, headers=spoof) as direct:
        await login(direct, user.email)
        sessions = await direct.get("/api/v1/users/me/sessions", headers=user.headers)
    addresses = [item["client_address"] for item in sessions.json()["logins"]]
    # Through nginx (a trusted proxy at 127.0.0.2) the client's own address is recorded; the
    # direct request comes from an untrusted peer, whose X-Forwarded-For is ignored.
    assert addresses == ["127.0.0.1", "127.0.0.1"]


async def test_presence_socket_over_wss(proxied: Proxied, tls: ssl.SSLContext) -> None:
    async with httpx.AsyncClient(base_url=proxied.nginx.base_url, verify=tls) as via:
        user = await make_user(via)
        url = f"{proxied.nginx.ws_url}/ws?token={user.access_token}"
        headers = {"X-Forwarded-For": SPOOFED}
        async with websockets.connect(url, ssl=tls, additional_headers=headers) as socket:
            connected = json.loads(await socket.recv())
            assert connected["type"] == "connected"
            await socket.send(json.dumps({"type": "heartbeat", "id": "h1"}))
            ack = json.loads(await socket.recv())
            assert ack["type"] == "heartbeat_ack"
            sessions = (await via.get("/api/v1/users/me/sessions", headers=user.headers)).json()
    live = [c for c in sessions["connections"] if c["connection_id"] == connected["connection_id"]]
    assert [c["client_address"] for c in live] == ["127.0.0.1"]


async def test_official_yjs_clients_co_edit_over_wss(
    proxied: Proxied, tls: ssl.SSLContext, database: TestDatabase, node_trusts_certificate: None
) -> None:
    async with httpx.AsyncClient(base_url=proxied.nginx.base_url, verify=tls) as via:
        first, second = await make_user(via), await make_user(via)
        document = await make_document(database.url, {first.id: "owner", second.id: "editor"})
        config = {
            "url": proxied.nginx.ws_url,
            "doc": str(document.document_id),
            "tokens": [first.access_token, second.access_token],
        }
        result = run_node("join", config)
        assert result["converged"], result
        path = f"/api/v1/documents/{document.document_id}"

        async def both_in_rest() -> bool:
            content = (await via.get(path, headers=first.headers)).json()["content"]
            return "<from-0>" in content and "<from-1>" in content

        # What both typed through the proxy is the document's content over REST too.
        await eventually(both_in_rest, within=10)
