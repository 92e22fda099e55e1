"""A real SMTP server (aiosmtpd) on 127.0.0.1 in the test's event loop: it receives what cowrite
mails, can refuse the first attempts, and can be down (not listening) and come up later."""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.support.server import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def body(self, subtype: str) -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None, f"no text/{subtype} part"
        content: str = part.get_content()  # type: ignore[attr-defined]
        return content


@dataclass
class SmtpSink:
    """Listens once `start()`ed; `refuse` DATA commands are answered 451 first."""

    port: int = field(default_factory=free_port)
    refuse: int = 0
    credentials: tuple[str, str] | None = None
    received: list[Received] = field(default_factory=list)
    attempts: int = 0
    _arrived: asyncio.Queue[Received] = field(default_factory=asyncio.Queue)
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        if self.credentials:
            user, password = self.credentials
            return f"smtp://{user}:{password}@127.0.0.1:{self.port}"
        return f"smtp://127.0.0.1:{self.port}"

    async def start(self) -> SmtpSink:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, "127.0.0.1", self.port)
        return self

    def _protocol(self) -> SMTP:
        options: dict[str, Any] = {}
        if self.credentials:
            options = {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": False,
            }
        return SMTP(self, hostname="127.0.0.1", **options)

    def _authenticate(
        self, _server: SMTP, _session: Session, _envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.credentials == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        self.attempts += 1
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 Try again later"
        assert isinstance(envelope.content, bytes)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        received = Received(str(envelope.mail_from), [str(r) for r in envelope.rcpt_tos], message)
        self.received.append(received)
        self._arrived.put_nowait(received)
        return "250 OK"

    async def next(self, within: float = 10.0) -> Received:
        """The next mail to arrive (or one that arrived and was not taken yet)."""
        return await asyncio.wait_for(self._arrived.get(), within)

    @property
    def waiting(self) -> int:
        return self._arrived.qsize()
