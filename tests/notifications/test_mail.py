"""Notification email end to end against a real SMTP server (aiosmtpd on 127.0.0.1): mailed once
when still unread, digests, one-click unsubscribe, refusals and outages, a restart in between."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import select, update

from cowrite.app import create_app
from cowrite.config import Settings
from cowrite.db import unit_of_work
from cowrite.kit.clock import utcnow
from cowrite.models import Notification, OutgoingMail
from cowrite.notifications.mail.worker import MailWorker
from cowrite.state import AppState
from tests.conftest import make_settings
from tests.notifications.conftest import inbox, settled
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx, make_user
from tests.support.redis import eventually
from tests.support.server import run_cli
from tests.support.smtp import SmtpSink
from tests.support.workspaces import add_member, make_workspace

PUBLIC_URL = "https://docs.example.org"
MAIL_SETTINGS: dict[str, object] = {
    "mail_from": "cowrite <notify@example.org>",
    "public_url": PUBLIC_URL,
    "mail_poll_interval_seconds": 0.2,
    "mail_retry_base_seconds": 0.05,
    "mail_retry_max_seconds": 0.2,
}

Running = tuple[FastAPI, httpx.AsyncClient]
Starter = Callable[..., Awaitable[Running]]


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    server = SmtpSink()
    yield server
    await server.stop()


@pytest.fixture
async def start_app(db: TestDatabase, tmp_path: Path) -> AsyncIterator[Starter]:
    """Start apps with mail settings; each one stops at the end, or earlier with its stack."""
    async with AsyncExitStack() as outer:

        async def start(
            smtp_url: str, stack: AsyncExitStack | None = None, **extra: object
        ) -> Running:
            settings = make_settings(
                db.url, tmp_path / "data", smtp_url=smtp_url, **{**MAIL_SETTINGS, **extra}
            )
            app = create_app(settings)
            owner = stack or outer
            await owner.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
            client = httpx.AsyncClient(transport=transport, base_url="http://cowrite.test")
            await owner.enter_async_context(client)
            return app, client

        yield start


def state_of(app: FastAPI) -> AppState:
    state: AppState = app.state.cowrite
    return state


def mailer_of(app: FastAPI) -> MailWorker:
    dispatcher = state_of(app).notifications
    assert dispatcher is not None and dispatcher.mailer is not None
    return dispatcher.mailer


async def mail_at_once(client: httpx.AsyncClient, user: UserCtx, on: bool = True) -> None:
    body: dict[str, object] = {"email_delay_minutes": 0}
    if on:
        body["email"] = {"document_updated": True}
    response = await client.patch(
        "/api/v1/users/me/notification-settings", json=body, headers=user.headers
    )
    assert response.status_code == 200, response.text


async def outbox(app: FastAPI) -> list[OutgoingMail]:
    async with unit_of_work(state_of(app).session_factory) as session:
        return list(
            (await session.execute(select(OutgoingMail).order_by(OutgoingMail.id))).scalars()
        )


async def invite(
    client: httpx.AsyncClient, owner: UserCtx, member: UserCtx, name: str = "Design"
) -> str:
    workspace = await make_workspace(client, owner, name=name)
    await add_member(client, workspace["id"], owner, member, "editor")
    workspace_id: str = workspace["id"]
    return workspace_id


async def test_an_unread_notification_is_mailed_once_and_the_link_unsubscribes(
    start_app: Starter, sink: SmtpSink
) -> None:
    await sink.start()
    app, client = await start_app(sink.url)
    owner = await make_user(client, full_name="Olive Owner")
    patient = await make_user(client, full_name="Pat Patient")  # keeps the 5-minute default
    member = await make_user(client, full_name="Mia Member")
    await mail_at_once(client, member)
    await invite(client, owner, patient)
    workspace_id = await invite(client, owner, member, name="Design <team>")

    mail = await sink.next()
    assert mail.recipients == [member.email]
    assert mail.sender == "notify@example.org"
    assert mail.message["To"] == member.email
    assert "Olive Owner added you to a workspace: Design <team>" in mail.message["Subject"]
    text, html = mail.body("plain"), mail.body("html")
    assert f"{PUBLIC_URL}/" in text and "Hello Mia Member" in text
    assert "Design &lt;team&gt;" in html  # escaped
    unsubscribe = mail.message["List-Unsubscribe"].strip("<>")
    assert unsubscribe.startswith(f"{PUBLIC_URL}/api/v1/notifications/unsubscribe?token=")
    assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text

    await settled(app)
    assert await mailer_of(app).queue_due() == 0  # mailed once; the patient one is not due
    [notification] = [n for n in await inbox(client, member) if n["workspace_id"] == workspace_id]
    assert notification["read_at"] is None  # mail does not mark it read

    # The one-click link (as a mail client POSTs it) turns that kind of mail off.
    parts = urlsplit(unsubscribe)
    page = await client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200 and "<form" in page.text  # opening it changes nothing
    clicked = await client.post(
        f"{parts.path}?{parts.query}", data={"List-Unsubscribe": "One-Click"}
    )
    assert clicked.json() == {"kind": "added_to_workspace", "email": False}
    settings = await client.get("/api/v1/users/me/notification-settings", headers=member.headers)
    assert settings.json()["email"]["added_to_workspace"] is False
    assert settings.json()["email"]["mention"] is True
    forged = await client.post(f"{parts.path}?token={parts.query[6:-2]}xx")
    assert forged.status_code == 404

    await invite(client, owner, member, name="Another")
    await settled(app)
    assert await mailer_of(app).queue_due() == 0
    assert sink.waiting == 0 and len(sink.received) == 1
    assert len(await outbox(app)) == 1


async def test_several_in_the_window_go_as_one_digest_without_what_was_read_or_is_unseen(
    start_app: Starter, sink: SmtpSink
) -> None:
    await sink.start()
    app, client = await start_app(sink.url)
    owner = await make_user(client, full_name="Olive Owner")
    member = await make_user(client, full_name="Mia Member")
    await mail_at_once(client, member)
    delay = await client.patch(
        "/api/v1/users/me/notification-settings",
        json={"email_delay_minutes": 60},
        headers=member.headers,
    )
    assert delay.status_code == 200
    for name in ("One", "Two", "Three"):
        await invite(client, owner, member, name=name)
    left = await invite(client, owner, member, name="Four")
    await settled(app)
    read_one = next(n for n in await inbox(client, member) if n["title"] == "Two")
    await client.post(f"/api/v1/notifications/{read_one['id']}/read", headers=member.headers)
    # Out of that workspace again: what it told them is no longer theirs to see, nor to mail.
    removed = await client.delete(
        f"/api/v1/workspaces/{left}/members/{member.id}", headers=owner.headers
    )
    assert removed.status_code == 204

    # The hour passes: the first comes due, and the others of the window go with it.
    state = state_of(app)
    async with unit_of_work(state.session_factory) as session:
        first = (
            await session.execute(
                select(Notification).where(
                    Notification.user_id == member.id, Notification.title == "One"
                )
            )
        ).scalar_one()
        first.mail_due_at = utcnow() - timedelta(seconds=1)
    mailer_of(app).wake_at(utcnow())

    digest = await sink.next()
    assert digest.message["Subject"] == "2 new notifications on cowrite"
    text = digest.body("plain")
    assert "added you to a workspace: One" in text and "added you to a workspace: Three" in text
    assert ": Two" not in text and ": Four" not in text
    assert "Stop added to workspace emails" in text  # one kind: its link stops that kind
    assert await mailer_of(app).queue_due() == 0
    assert len(await outbox(app)) == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_a_refusing_server_gets_the_mail_once_it_accepts(
    start_app: Starter, sink: SmtpSink
) -> None:
    sink.refuse = 2
    sink.credentials = ("mailer", "s3cret:/@")
    await sink.start()
    app, client = await start_app(sink.url.replace("s3cret:/@", "s3cret%3A%2F%40"))
    owner, member = await make_user(client), await make_user(client)
    await mail_at_once(client, member)
    await invite(client, owner, member)
    mail = await sink.next()
    assert mail.recipients == [member.email]
    assert sink.attempts == 3

    async def marked() -> bool:
        [row] = await outbox(app)
        return row.sent_at is not None

    await eventually(marked)  # marked right after the send
    [row] = await outbox(app)
    assert row.attempts == 2 and row.last_error is None


async def test_smtp_down_blocks_nothing_and_loses_nothing_across_a_restart(
    start_app: Starter, sink: SmtpSink
) -> None:
    first = AsyncExitStack()
    app, client = await start_app(sink.url, stack=first)  # nothing listens yet
    owner, member = await make_user(client), await make_user(client)
    await mail_at_once(client, member)
    await invite(client, owner, member)  # the request answers as usual
    await settled(app)

    async def tried_and_failed() -> bool:
        rows = await outbox(app)
        return bool(rows) and rows[0].attempts >= 2 and rows[0].sent_at is None

    await eventually(tried_and_failed)
    [waiting] = await outbox(app)
    assert waiting.last_error
    await first.aclose()  # the process stops with the mail still queued

    await sink.start()
    app, _client = await start_app(sink.url)
    mail = await sink.next()
    assert mail.recipients == [member.email]

    async def marked() -> bool:
        [row] = await outbox(app)
        return row.id == waiting.id and row.sent_at is not None

    await eventually(marked)


async def test_a_mail_claimed_by_a_process_that_died_is_sent_again(
    start_app: Starter, sink: SmtpSink
) -> None:
    """A crash between sending and marking: the claim runs out and the mail goes (again)."""
    await sink.start()
    app, client = await start_app(sink.url, mail_lease_seconds=0.3)
    user = await make_user(client)
    state = state_of(app)
    async with unit_of_work(state.session_factory) as session:
        session.add(
            OutgoingMail(
                user_id=user.id,
                recipient=user.email,
                message="Subject: left behind\n\nclaimed, never marked\n",
                claim=uuid.uuid4().hex,
                next_attempt_at=utcnow() + timedelta(seconds=0.3),
            )
        )
    mailer_of(app).wake_at(utcnow() + timedelta(seconds=0.3))
    mail = await sink.next()
    assert mail.message["Subject"] == "left behind"


async def test_document_links_point_at_the_web_app(start_app: Starter, sink: SmtpSink) -> None:
    await sink.start()
    app, client = await start_app(sink.url)
    owner, member = await make_user(client), await make_user(client)
    workspace_id = await invite(client, owner, member)
    created = await client.post(
        f"/api/v1/workspaces/{workspace_id}/documents",
        json={"title": "Spec"},
        headers=member.headers,
    )
    document_id = created.json()["id"]
    await settled(app)
    await mail_at_once(client, member)
    async with unit_of_work(state_of(app).session_factory) as session:
        await session.execute(
            update(Notification)
            .where(Notification.user_id == member.id)
            .values(read_at=utcnow(), mail_due_at=None)
        )
    edited = await client.patch(
        f"/api/v1/documents/{document_id}", json={"content": "new"}, headers=owner.headers
    )
    assert edited.status_code == 200
    mail = await sink.next()
    assert f"{PUBLIC_URL}/d/{document_id}" in mail.body("plain")
    assert f'href="{PUBLIC_URL}/d/{document_id}"' in mail.body("html")


def test_a_malformed_smtp_url_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    for bad in ("mail.example.org:25", "http://mail.example.org", "smtp://", "smtp://h:port"):
        with pytest.raises(ValidationError, match="COWRITE_SMTP_URL"):
            Settings(smtp_url=bad)
    env = {"COWRITE_SMTP_URL": "smtp//mail.example.org", "COWRITE_DATA_DIR": str(tmp_path / "data")}
    result = run_cli(["serve", "--port", "1"], cwd=tmp_path, env=env, timeout=60)
    assert result.returncode == 2
    assert "COWRITE_SMTP_URL must start with smtp:// or smtps://" in result.stderr
    assert "Traceback" not in result.stderr
