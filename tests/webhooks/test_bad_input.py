"""Without COWRITE_WEBHOOKS_ALLOW_PRIVATE, a webhook may only call public http(s) addresses:
refused at registration (422), and again at delivery time for a name that turned private."""

from __future__ import annotations

import ipaddress
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from cowrite.config import Settings
from cowrite.db import create_engine
from cowrite.models import Webhook
from cowrite.webhooks.addresses import is_public
from tests.conftest import make_settings
from tests.support.databases import TestDatabase
from tests.support.receiver import Receiver
from tests.support.redis import eventually
from tests.support.workspaces import Team
from tests.webhooks.conftest import FAST

# A public address given literally, so registration needs no DNS (nothing is sent to it here).
PUBLIC_URL = "https://93.184.215.14/hooks/cowrite"


@pytest.fixture
def settings(db: TestDatabase, tmp_path: Path) -> Settings:
    return make_settings(db.url, tmp_path / "data", **{**FAST, "webhooks_allow_private": False})


UNSAFE_URLS = [
    "ftp://93.184.215.14/x",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "http://",
    "http://user:secret@93.184.215.14/",
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://10.1.2.3/",
    "http://192.168.0.10/",
    "http://172.16.5.5/",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[::1]/",
    "http://[fe80::1]/",
    "http://[fd00:ec2::254]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[2002:7f00:1::]/",
]


async def test_unsafe_urls_are_refused(client: httpx.AsyncClient, team: Team) -> None:
    for url in UNSAFE_URLS:
        response = await client.post(
            f"/api/v1/workspaces/{team.workspace_id}/webhooks",
            json={"url": url, "events": ["document.created"]},
            headers=team.admin.headers,
        )
        assert response.status_code == 422, (url, response.text)
        assert response.json()["code"] in ("invalid_webhook_url", "validation_error")
    listed = await client.get(
        f"/api/v1/workspaces/{team.workspace_id}/webhooks", headers=team.admin.headers
    )
    assert listed.json() == []


async def test_bad_events_and_bad_updates_are_refused(
    client: httpx.AsyncClient, team: Team
) -> None:
    url = f"/api/v1/workspaces/{team.workspace_id}/webhooks"
    for events in (["document.exploded"], [], "document.created"):
        response = await client.post(
            url, json={"url": PUBLIC_URL, "events": events}, headers=team.admin.headers
        )
        assert response.status_code == 422, events
    created = await client.post(
        url, json={"url": PUBLIC_URL, "events": ["document.created"]}, headers=team.admin.headers
    )
    assert created.status_code == 201
    hook_url = f"/api/v1/webhooks/{created.json()['id']}"
    for body in ({"url": "http://127.0.0.1/"}, {"events": ["nope"]}, {"active": None}):
        response = await client.patch(hook_url, json=body, headers=team.admin.headers)
        assert response.status_code == 422, body
    unchanged = await client.get(hook_url, headers=team.admin.headers)
    assert unchanged.json()["url"] == PUBLIC_URL


async def test_a_name_that_turns_private_is_refused_at_delivery(
    client: httpx.AsyncClient, team: Team, receiver: Receiver, db: TestDatabase
) -> None:
    created = await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/webhooks",
        json={"url": PUBLIC_URL, "events": ["document.created"]},
        headers=team.admin.headers,
    )
    hook_id = created.json()["id"]
    # As if its DNS answer changed after registration: the name now points at this machine.
    engine = create_engine(db.url)
    async with engine.begin() as connection:
        await connection.execute(
            update(Webhook)
            .where(Webhook.id == uuid.UUID(hook_id))
            .values(url=f"http://localhost:{receiver.port}/hook")
        )
    await engine.dispose()
    await client.post(
        f"/api/v1/workspaces/{team.workspace_id}/documents",
        json={"title": "Secret"},
        headers=team.editor.headers,
    )

    async def refused() -> bool:
        rows = (
            await client.get(f"/api/v1/webhooks/{hook_id}/deliveries", headers=team.admin.headers)
        ).json()
        return bool(rows) and "private" in (rows[0]["error"] or "")

    await eventually(refused)
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("169.254.169.254", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:93.184.215.14", True),
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", False),  # Teredo carrying 10.0.0.1
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public
