"""`COWRITE_SMTP_URL` and one SMTP connection that sends many messages."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import aiosmtplib

URL_SHAPE = "smtp://user:password@host:port or smtps://user:password@host:port"


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    host: str
    port: int
    tls: bool  # implicit TLS (smtps://); smtp:// upgrades with STARTTLS when offered
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """The server a URL names; ValueError saying what is wrong otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"COWRITE_SMTP_URL is malformed ({exc}); expected {URL_SHAPE}") from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ValueError(
            f"COWRITE_SMTP_URL must start with smtp:// or smtps://; expected {URL_SHAPE}"
        )
    if not parts.hostname:
        raise ValueError(f"COWRITE_SMTP_URL names no host; expected {URL_SHAPE}")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"COWRITE_SMTP_URL has a path or query; expected {URL_SHAPE}")
    tls = parts.scheme == "smtps"
    return SmtpTarget(
        host=parts.hostname,
        port=port or (465 if tls else 25),
        tls=tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def smtp_client(target: SmtpTarget, timeout: float) -> aiosmtplib.SMTP:
    """A client for `target`: implicit TLS for smtps://, STARTTLS when offered for smtp://,
    signing in when the URL has credentials."""
    return aiosmtplib.SMTP(
        hostname=target.host,
        port=target.port,
        username=target.username,
        password=target.password,
        use_tls=target.tls,
        start_tls=None if not target.tls else False,
        timeout=timeout,
    )
