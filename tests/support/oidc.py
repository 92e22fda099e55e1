"""A real OpenID provider for the tests (tests/oidc/provider.mjs on Node), and a browser that
signs in through it: the provider's own sign-in and consent pages, driven over HTTP."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx

from tests.support.server import free_port

OIDC_DIR = Path(__file__).resolve().parent.parent / "oidc"
CLIENT_ID = "cowrite"
CLIENT_SECRET = "cowrite-test-client-secret-0123456789"
CALLBACK_PATH = "/api/v1/auth/oidc/callback"

# Who can sign in at the provider: account id -> the claims it gives.
ACCOUNTS: dict[str, dict[str, Any]] = {
    "alice": {"email": "alice@example.com", "email_verified": True, "name": "Alice Example"},
    "linker": {"email": "linked@example.com", "email_verified": True, "name": "Lin Ker"},
    "mallory": {"email": "victim@example.com", "email_verified": False, "name": "Mallory"},
    "eve": {"email": "eve@elsewhere.net", "email_verified": True, "name": "Eve"},
    "admin": {"email": "admin@example.com", "email_verified": True, "name": "First Admin"},
}


def provider_installed() -> bool:
    return (
        shutil.which("node") is not None and (OIDC_DIR / "node_modules" / "oidc-provider").is_dir()
    )


@dataclass
class OidcProvider:
    redirect_uris: list[str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> OidcProvider:
        client = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "redirect_uris": self.redirect_uris,
        }
        env = {
            **os.environ,
            "PORT": str(self.port),
            "CLIENTS": json.dumps([client]),
            "ACCOUNTS": json.dumps(ACCOUNTS),
        }
        self.process = subprocess.Popen(
            ["node", "provider.mjs"],
            cwd=OIDC_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        discovery = f"{self.issuer}/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                problem = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"provider exited: {problem}")
            try:
                if httpx.get(discovery, timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("the OpenID provider did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    async def skew_clock(self, seconds: int) -> None:
        async with httpx.AsyncClient() as client:
            response = await client.post(f"{self.issuer}/__test/skew", params={"seconds": seconds})
            response.raise_for_status()


def with_param(url: str, **params: str) -> str:
    """`url` with these query parameters replaced."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.update(params)
    return urlunsplit(parts._replace(query=urlencode(query)))


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


async def sign_in_at_provider(browser: httpx.AsyncClient, authorize_url: str, account: str) -> str:
    """Follow the provider's pages as `account` (sign in, consent) until it sends the browser
    back to cowrite; returns that callback URL (with `code` and `state`)."""
    provider = f"{urlsplit(authorize_url).scheme}://{urlsplit(authorize_url).netloc}"
    response = await browser.get(authorize_url)
    for _ in range(12):
        if response.is_redirect:
            location = urljoin(str(response.url), str(response.headers["location"]))
            if not location.startswith(provider):
                return location
            response = await browser.get(location)
            continue
        assert response.status_code == 200, response.text
        action = _ACTION.search(response.text)
        assert action, response.text
        url = urljoin(str(response.url), action.group(1))
        if 'name="login"' in response.text:
            form = {"prompt": "login", "login": account, "password": "any"}
        else:
            form = {"prompt": "consent"}
        response = await browser.post(url, data=form)
    raise AssertionError("the provider never sent the browser back")
