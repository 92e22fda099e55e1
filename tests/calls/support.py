"""Helpers for call tests: `/ws` clients in a document and in its call."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from tests.support.presence import WsClient

MEDIA = {"audio": True, "video": True, "screen": False}


async def in_document(ws_url: str, token: str, document_id: uuid.UUID) -> WsClient:
    client = await WsClient.open(ws_url, token)
    joined = await client.join(document_id)
    assert joined["type"] == "presence_list", joined
    return client


async def join_call(
    client: WsClient, document_id: uuid.UUID, media: dict[str, bool] | None = None
) -> dict[str, Any]:
    return await client.request(
        {"type": "call_join", "document_id": str(document_id), "media": media or MEDIA},
        "call_state",
    )


async def signal(
    client: WsClient, document_id: uuid.UUID, to: str, body: dict[str, Any], **extra: Any
) -> None:
    await client.send(
        {"type": "rtc_signal", "document_id": str(document_id), "to": to, "signal": body, **extra}
    )


async def frames_until_pong(client: WsClient) -> list[dict[str, Any]]:
    """Everything that arrives before the answer to a heartbeat sent now (a barrier)."""
    ref = uuid.uuid4().hex[:8]
    await client.send({"type": "heartbeat", "id": ref})
    seen = []
    while True:
        event = await client.next()
        if event.get("type") == "heartbeat_ack" and event.get("ref") == ref:
            return seen
        seen.append(event)


@contextlib.asynccontextmanager
async def kept_alive(*clients: WsClient, every: float = 0.3) -> AsyncIterator[None]:
    """Heartbeats from `clients` meanwhile, as a page sends them: a server with a short presence
    timeout (the two-process tests') keeps them however slowly the machine runs the test."""

    async def beat() -> None:
        while True:
            for client in clients:
                with contextlib.suppress(Exception):
                    await client.send({"type": "heartbeat"})
            await asyncio.sleep(every)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
