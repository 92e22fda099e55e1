"""The official Yjs client (yjs + y-websocket, through Node) against a real cowrite server."""

from __future__ import annotations

import pytest

from tests.support.collab import make_document, run_node, stored_text
from tests.support.databases import TestDatabase
from tests.support.factories import make_user
from tests.support.server import ServerProcess

pytestmark = pytest.mark.interop


async def test_two_clients_join_a_new_document_at_the_same_moment(
    server: ServerProcess, db: TestDatabase, http
) -> None:
    alice = await make_user(http)
    bob = await make_user(http)
    doc = await make_document(db.url, {alice.id: "owner", bob.id: "editor"})
    result = run_node(
        "join",
        {
            "url": server.ws_url,
            "doc": str(doc.document_id),
            "tokens": [alice.access_token, bob.access_token],
        },
    )
    assert result["converged"], result
    assert result["texts"][0] == result["texts"][1]
