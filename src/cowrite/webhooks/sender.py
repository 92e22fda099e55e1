"""One attempt of one delivery: a signed POST to the checked address, without redirects."""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

import httpx

from cowrite.webhooks.addresses import UnsafeUrl, resolve

MAX_KEPT_BYTES = 1024
USER_AGENT = "cowrite-webhooks"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    response_body: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


async def send(
    client: httpx.AsyncClient,
    url: str,
    secret: str,
    *,
    delivery_id: str,
    event: str,
    body: str,
    allow_private: bool,
) -> Outcome:
    try:
        target = await resolve(url, allow_private=allow_private)
    except UnsafeUrl as exc:
        return Outcome(None, str(exc), None)
    payload = body.encode()
    timestamp = str(int(time.time()))
    headers = {
        "Host": target.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Cowrite-Event": event,
        "X-Cowrite-Delivery": delivery_id,
        "X-Cowrite-Timestamp": timestamp,
        "X-Cowrite-Signature": signature(secret, timestamp, payload),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request = client.build_request(
        "POST", target.connect_url, content=payload, headers=headers, extensions=extensions
    )
    try:
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            kept = bytearray()
            async for chunk in response.aiter_raw():
                kept += chunk
                if len(kept) >= MAX_KEPT_BYTES:
                    break
        finally:
            await response.aclose()
    except httpx.TimeoutException:
        return Outcome(None, "The receiver did not answer in time", None)
    except httpx.HTTPError as exc:
        reason = f"Connection failed: {type(exc).__name__}: {exc}"
        return Outcome(None, reason[:MAX_KEPT_BYTES], None)
    text = bytes(kept[:MAX_KEPT_BYTES]).decode(errors="replace")
    error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Outcome(response.status_code, error, text)
