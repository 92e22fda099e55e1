"""Single sign-on as configured: password sign-in turned off (the first admin still comes from
`cowrite user create`, then signs in through the provider), and a provider that is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from cowrite.config import Settings
from tests.conftest import TEST_SECRET, make_settings
from tests.support.databases import TestDatabase
from tests.support.factories import PASSWORD, make_user
from tests.support.oidc import (
    CLIENT_ID,
    CLIENT_SECRET,
    OidcProvider,
    query_of,
    sign_in_at_provider,
)
from tests.support.server import free_port, run_cli


@pytest.fixture
async def provider_browser(provider: OidcProvider) -> AsyncIterator[httpx.AsyncClient]:
    """The browser's side at the provider (the in-process app is reached through `client`)."""
    async with httpx.AsyncClient(timeout=30) as browser:
        yield browser


class TestPasswordSignInOff:
    @pytest.fixture
    def settings(self, db: TestDatabase, tmp_path: Path, provider: OidcProvider) -> Settings:
        return make_settings(
            db.url,
            tmp_path / "data",
            oidc_issuer=provider.issuer,
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            password_login=False,
        )

    async def test_only_single_sign_on_and_the_command_line_make_accounts(
        self,
        client: httpx.AsyncClient,
        provider_browser: httpx.AsyncClient,
        db: TestDatabase,
        tmp_path: Path,
    ) -> None:
        providers = await client.get("/api/v1/auth/providers")
        assert providers.json() == {"password": False, "oidc": {"name": "Single sign-on"}}
        registered = await client.post(
            "/api/v1/auth/register",
            json={"email": "someone@example.com", "password": PASSWORD, "full_name": "S"},
        )
        assert registered.status_code == 403
        assert registered.json()["code"] == "password_login_disabled"

        env = {
            "COWRITE_DATABASE_URL": db.url,
            "COWRITE_DATA_DIR": str(tmp_path / "cli"),
            "COWRITE_SECRET_KEY": TEST_SECRET,
            "COWRITE_PASSWORD_LOGIN": "false",
        }
        # Run beside the app (never blocking its loop, which may hold the SQLite write lock).
        command = ["user", "create", "--email", "admin@example.com", "--full-name", "First Admin"]
        created = await asyncio.to_thread(run_cli, command, cwd=tmp_path, env=env, input=PASSWORD)
        assert created.returncode == 0, created.stderr
        admin_id = created.stdout.strip().splitlines()[-1]
        login = await client.post(
            "/api/v1/auth/login", json={"email": "admin@example.com", "password": PASSWORD}
        )
        assert login.status_code == 403

        started = await client.get("/api/v1/auth/oidc/login")
        assert started.status_code == 302
        callback = await sign_in_at_provider(
            provider_browser, str(started.headers["location"]), "admin"
        )
        landed = await client.get(callback)
        assert landed.status_code == 302, landed.text
        code = query_of(str(landed.headers["location"]))["code"]
        tokens = (await client.post("/api/v1/auth/oidc/exchange", json={"code": code})).json()
        me = await client.get(
            "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        assert me.json()["id"] == admin_id  # linked by the provider's verified email


class TestProviderDown:
    @pytest.fixture
    def settings(self, db: TestDatabase, tmp_path: Path) -> Settings:
        return make_settings(
            db.url,
            tmp_path / "data",
            oidc_issuer=f"http://127.0.0.1:{free_port()}",  # nothing listens there
            oidc_client_id=CLIENT_ID,
            oidc_client_secret=CLIENT_SECRET,
            oidc_timeout_seconds=2.0,
        )

    async def test_a_clear_error_page_and_passwords_still_work(
        self, client: httpx.AsyncClient
    ) -> None:
        providers = await client.get("/api/v1/auth/providers")
        assert providers.json()["oidc"] == {"name": "Single sign-on"}
        started = await client.get("/api/v1/auth/oidc/login")
        assert started.status_code == 502
        assert "text/html" in started.headers["content-type"]
        assert "cannot be reached" in started.text
        assert "cowrite_oidc" not in started.cookies
        user = await make_user(client)  # registers and signs in with a password
        me = await client.get("/api/v1/users/me", headers=user.headers)
        assert me.status_code == 200


async def test_without_configuration_single_sign_on_is_absent(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/auth/providers")).json() == {"password": True, "oidc": None}
    assert (await client.get("/api/v1/auth/oidc/login")).status_code == 404
    assert (await client.get("/api/v1/auth/oidc/callback?code=x&state=y")).status_code == 404
    exchanged = await client.post("/api/v1/auth/oidc/exchange", json={"code": "made-up"})
    assert exchanged.status_code == 401
