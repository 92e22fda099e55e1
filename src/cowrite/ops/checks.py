"""The checks `cowrite doctor` runs, and the ones `cowrite serve` runs before it listens.

Each check is an async function of the settings that answers a plain sentence when all is well,
raises `Problem` (or any exception, reported as its one-line reason) when something is wrong,
and raises `Notice` for what works but deserves a look. A feature with a service of its own
(mail, single sign-on, TURN, object storage) appends a `Check` to `CHECKS`; `at_startup=True`
also makes `cowrite serve` refuse to start on its failure.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import ValidationError
from sqlalchemy import text

from cowrite.config import Settings
from cowrite.ops.describe import database_label, redacted_url

CHECK_TIMEOUT_SECONDS = 5.0
Status = Literal["ok", "warn", "fail"]


class Problem(Exception):
    """What is wrong, said plainly in one line."""


class Notice(Exception):
    """It works, but the operator should know (a warning, not a failure)."""


@dataclass(frozen=True, slots=True)
class Finding:
    name: str
    status: Status
    message: str


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    run: Callable[[Settings], Awaitable[str]]
    # Also run by `cowrite serve`: a failure stops the start with this one line.
    at_startup: bool = False


def settings_error(exc: ValidationError) -> str:
    """A settings validation error as one line naming the environment variable."""
    parts = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"COWRITE_{field.upper()}: {message}")
    return "; ".join(parts)


def reason(exc: BaseException) -> str:
    """An exception's message, on one line."""
    if isinstance(exc, TimeoutError):
        return f"no answer within {CHECK_TIMEOUT_SECONDS:g} s"
    message = str(exc).strip().splitlines()
    return message[0] if message else type(exc).__name__


def _writable(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{secrets.token_hex(4)}"
        with probe.open("wb") as handle:
            handle.write(b"ok")
            handle.flush()
            os.fsync(handle.fileno())
        probe.unlink()
    except OSError as exc:
        raise Problem(f"{path.resolve()} is not writable: {exc.strerror or exc}") from None


async def check_data_dir(settings: Settings) -> str:
    await asyncio.to_thread(_writable, settings.data_dir)
    return f"{settings.data_dir.resolve()} is writable"


async def check_secret_key(settings: Settings) -> str:
    try:
        key = settings.resolved_secret_key
    except RuntimeError as exc:
        raise Problem(str(exc)) from None
    if len(key) < 32:
        raise Notice("COWRITE_SECRET_KEY is shorter than 32 characters; use a long random value")
    return "configured" if settings.secret_key else "generated once, kept in the data dir"


async def check_database(settings: Settings) -> str:
    from cowrite.db import create_engine
    from cowrite.migrate import current_revision, head_revision

    label = database_label(settings)
    engine = create_engine(settings.resolved_database_url)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:
        raise Problem(f"{label} does not answer: {reason(exc)}") from None
    finally:
        await engine.dispose()
    current, head = await current_revision(settings.resolved_database_url), head_revision()
    if current != head:
        raise Notice(
            f"{label} answers; its schema is at {current or 'empty'}, this version needs {head}"
            " (`cowrite serve` or `cowrite db upgrade` applies it)"
        )
    return f"{label} answers, schema up to date ({current})"


async def check_redis(settings: Settings) -> str:
    if not settings.redis_url:
        return "not configured: the in-process broker serves one process"
    from cowrite.broker.redis import redis_client

    label = redacted_url(settings.redis_url)
    client = redis_client(settings.redis_url, connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await client.ping()
    except Exception as exc:
        raise Problem(f"Redis at {label} does not answer: {reason(exc)}") from None
    finally:
        await client.aclose()
    return f"Redis at {label} answers"


async def _one_chunk() -> AsyncIterator[bytes]:
    yield b"cowrite doctor"


async def check_storage(settings: Settings) -> str:
    from cowrite.storage import create_blob_store

    store = create_blob_store(settings)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            info = await store.put(_one_chunk())
            await store.delete(info.key)
    except Exception as exc:
        raise Problem(f"file storage refuses a test write: {reason(exc)}") from None
    return "a test file was written and removed"


async def check_proxy_trust(settings: Settings) -> str:
    networks = settings.trusted_proxies
    if any(network.prefixlen == 0 for network in networks):
        raise Notice(
            "COWRITE_TRUSTED_PROXIES trusts every address: any client can forge its address"
            " and scheme; list only your proxies"
        )
    if not networks:
        return "no proxy trusted: X-Forwarded-For and X-Forwarded-Proto are ignored"
    listed = ", ".join(str(network) for network in networks)
    return f"X-Forwarded-For and X-Forwarded-Proto believed from {listed}"


async def check_smtp(settings: Settings) -> str:
    """Connect to the mail server, say EHLO, and take TLS and sign in as configured."""
    if not settings.smtp_url:
        return "not configured: no notification emails are sent"
    from cowrite.notifications.mail.smtp import parse_smtp_url, smtp_client

    target = parse_smtp_url(settings.smtp_url)
    where = f"{target.host}:{target.port}"
    client = smtp_client(target, CHECK_TIMEOUT_SECONDS)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await client.connect()
            answer = await client.ehlo()
            tls = client.get_transport_info("sslcontext") is not None
    except Exception as exc:
        raise Problem(f"the mail server at {where} does not answer: {reason(exc)}") from None
    finally:
        client.close()
    greeting = answer.message.splitlines()[0] if answer.message else "no name"
    how = "over TLS" if tls else "without TLS (it offers no STARTTLS)"
    signed_in = f", signed in as {target.username}" if target.username else ""
    if not tls and target.username:
        raise Notice(f"{where} ({greeting}) answers EHLO {how}: the password travels in clear")
    return f"{where} ({greeting}) answers EHLO {how}{signed_in}"


async def check_oidc(settings: Settings) -> str:
    """Read the provider's discovery document and keys, as a sign-in would."""
    if not settings.oidc_issuer and not settings.oidc_client_id:
        return "not configured: people sign in with a password"
    if not settings.oidc_enabled:
        missing = "COWRITE_OIDC_CLIENT_ID" if settings.oidc_issuer else "COWRITE_OIDC_ISSUER"
        raise Problem(f"single sign-on is half configured: {missing} is not set")
    from cowrite.oidc.client import OidcClient

    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            metadata = await OidcClient(settings).discover()
    except Exception as exc:
        raise Problem(
            f"the sign-in provider {settings.oidc_issuer} cannot be used: {reason(exc)}"
        ) from None
    algorithms = ", ".join(metadata["id_token_signing_alg_values_supported"])
    return f"{metadata['issuer']} answers discovery and its keys (ID tokens: {algorithms})"


def _bad_ice_urls(urls: list[str], schemes: tuple[str, ...]) -> list[str]:
    return [url for url in urls if not url.startswith(schemes) or not url.partition(":")[2]]


async def check_turn(settings: Settings) -> str:
    stun, turn, secret = settings.stun_urls, settings.turn_urls, settings.turn_secret
    bad = _bad_ice_urls(stun, ("stun:", "stuns:")) + _bad_ice_urls(turn, ("turn:", "turns:"))
    if bad:
        raise Problem(
            f"not an ICE server URL: {', '.join(bad[:3])} (stun:host:port, turn:host:port,"
            " turns:host:port?transport=tcp)"
        )
    if turn and not secret:
        raise Problem(
            "COWRITE_TURN_URLS is set without COWRITE_TURN_SECRET: no TURN credentials can be"
            " handed out (use the secret of coturn's use-auth-secret)"
        )
    if secret and not turn:
        raise Notice("COWRITE_TURN_SECRET is set but COWRITE_TURN_URLS is empty: TURN is unused")
    if not turn:
        reach = "STUN " + ", ".join(stun) if stun else "host candidates only"
        return (
            f"no TURN server: calls connect peer to peer ({reach}); people behind strict"
            " firewalls may not connect"
        )
    if secret is not None and len(secret) < 16:
        raise Notice("COWRITE_TURN_SECRET is shorter than 16 characters: use a long random one")
    hours = settings.turn_ttl_seconds / 3600
    return f"TURN at {', '.join(turn)}, credentials valid {hours:g} h"


CHECKS: list[Check] = [
    Check("data dir", check_data_dir, at_startup=True),
    Check("secret key", check_secret_key, at_startup=True),
    Check("database", check_database, at_startup=True),
    Check("redis", check_redis, at_startup=True),
    Check("storage", check_storage),
    Check("proxy trust", check_proxy_trust),
    Check("smtp", check_smtp),
    Check("oidc", check_oidc),
    Check("turn", check_turn),
]


async def run_check(check: Check, settings: Settings) -> Finding:
    try:
        return Finding(check.name, "ok", await check.run(settings))
    except Notice as notice:
        return Finding(check.name, "warn", str(notice))
    except Exception as exc:
        return Finding(check.name, "fail", reason(exc))


async def run_checks(settings: Settings, *, startup_only: bool = False) -> list[Finding]:
    """Every check in order; with `startup_only`, stop at the first failure."""
    findings = []
    for check in CHECKS:
        if startup_only and not check.at_startup:
            continue
        finding = await run_check(check, settings)
        findings.append(finding)
        if startup_only and finding.status == "fail":
            break
    return findings
