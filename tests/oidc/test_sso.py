"""Single sign-on end to end: a real `cowrite serve`, a real OpenID provider, and a browser
that signs in through the provider's pages. No token ever travels in a URL: the web app gets a
one-time code and trades it for the same token pair as a password sign-in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.databases import TestDatabase
from tests.support.factories import PASSWORD, login, make_user
from tests.support.oidc import OidcProvider, query_of, sign_in_at_provider, with_param
from tests.support.server import ServerProcess

LOGIN = "/api/v1/auth/oidc/login"
EXCHANGE = "/api/v1/auth/oidc/exchange"


@pytest.fixture
async def browser(sso_server: ServerProcess, db: TestDatabase) -> AsyncIterator[httpx.AsyncClient]:
    """A browser (one cookie jar) pointed at the server; the `db` fixture empties it after."""
    async with httpx.AsyncClient(base_url=sso_server.base_url, timeout=30) as client:
        yield client


async def start(browser: httpx.AsyncClient) -> str:
    """Press "Sign in with …": cowrite answers with the provider's authorization URL."""
    response = await browser.get(LOGIN)
    assert response.status_code == 302, response.text
    return str(response.headers["location"])


async def finish(browser: httpx.AsyncClient, callback_url: str) -> httpx.Response:
    return await browser.get(callback_url)


async def sign_in(browser: httpx.AsyncClient, account: str) -> dict[str, Any]:
    """The whole flow as the web app sees it; returns the token pair."""
    callback = await sign_in_at_provider(browser, await start(browser), account)
    landed = await finish(browser, callback)
    assert landed.status_code == 302, landed.text
    target = str(landed.headers["location"])
    assert target.startswith("/sign-in/oidc?")
    assert set(query_of(target)) == {"code"}  # a one-time code, no token
    exchanged = await browser.post(EXCHANGE, json={"code": query_of(target)["code"]})
    assert exchanged.status_code == 200, exchanged.text
    pair: dict[str, Any] = exchanged.json()
    return pair


async def me(browser: httpx.AsyncClient, tokens: dict[str, Any]) -> dict[str, Any]:
    response = await browser.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_first_sign_in_creates_the_account_and_later_ones_find_it(
    browser: httpx.AsyncClient, provider: OidcProvider
) -> None:
    providers = await browser.get("/api/v1/auth/providers")
    assert providers.json() == {"password": True, "oidc": {"name": "Test Identity"}}

    authorize = await start(browser)
    assert authorize.startswith(f"{provider.issuer}/auth?")
    params = query_of(authorize)
    assert params["code_challenge_method"] == "S256" and params["code_challenge"]
    assert params["state"] and params["nonce"] and params["response_type"] == "code"
    callback = await sign_in_at_provider(browser, authorize, "alice")
    landed = await finish(browser, callback)
    assert landed.status_code == 302
    code = query_of(str(landed.headers["location"]))["code"]
    tokens = (await browser.post(EXCHANGE, json={"code": code})).json()
    assert tokens["token_type"] == "bearer" and tokens["refresh_token"]
    first = await me(browser, tokens)
    assert first["email"] == "alice@example.com" and first["full_name"] == "Alice Example"

    # The code works once.
    replay = await browser.post(EXCHANGE, json={"code": code})
    assert replay.status_code == 401 and replay.json()["code"] == "invalid_code"
    # The refresh token rotates like any login's.
    refreshed = await browser.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    # Signing in again is the same account; no password can open it.
    again = await me(browser, await sign_in(browser, "alice"))
    assert again["id"] == first["id"]
    for password in ("", "!sso", PASSWORD):
        refused = await browser.post(
            "/api/v1/auth/login", json={"email": "alice@example.com", "password": password}
        )
        assert refused.status_code in (401, 422)


async def test_the_web_app_exchanges_in_cookie_mode(browser: httpx.AsyncClient) -> None:
    """The web app's exchange: the access token in the body, the refresh token only as the
    HttpOnly cookie of password sign-in, which then renews the session."""
    callback = await sign_in_at_provider(browser, await start(browser), "alice")
    code = query_of(str((await finish(browser, callback)).headers["location"]))["code"]
    exchanged = await browser.post(f"{EXCHANGE}?cookie=true", json={"code": code})
    assert exchanged.status_code == 200, exchanged.text
    assert "refresh_token" not in exchanged.json() and exchanged.json()["access_token"]
    [cookie] = [c for c in exchanged.headers.get_list("set-cookie") if "cowrite_refresh=" in c]
    assert "HttpOnly" in cookie and "Path=/api/v1/auth" in cookie
    renewed = await browser.post("/api/v1/auth/refresh?cookie=true")
    assert renewed.status_code == 200, renewed.text
    assert (await me(browser, renewed.json()))["email"] == "alice@example.com"


async def test_a_verified_email_links_the_existing_account(browser: httpx.AsyncClient) -> None:
    existing = await make_user(browser, email="linked@example.com", full_name="Lin Password")
    linked = await me(browser, await sign_in(browser, "linker"))
    assert linked["id"] == str(existing.id)
    assert linked["full_name"] == "Lin Password"  # the account stays as it was
    await login(browser, "linked@example.com")  # and its password still works


async def test_an_unverified_email_never_takes_over_an_existing_account(
    browser: httpx.AsyncClient,
) -> None:
    await make_user(browser, email="victim@example.com", full_name="Victim")
    callback = await sign_in_at_provider(browser, await start(browser), "mallory")
    refused = await finish(browser, callback)
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    assert "not verified" in refused.text
    assert "location" not in refused.headers
    # The victim's account is untouched and still theirs alone.
    tokens = await login(browser, "victim@example.com")
    assert (await me(browser, tokens))["full_name"] == "Victim"


async def test_a_disallowed_domain_is_refused(browser: httpx.AsyncClient) -> None:
    callback = await sign_in_at_provider(browser, await start(browser), "eve")
    refused = await finish(browser, callback)
    assert refused.status_code == 403
    assert "email domain may not sign in" in refused.text
    # No account was made for eve: registering that email is still free.
    registered = await browser.post(
        "/api/v1/auth/register",
        json={"email": "eve@elsewhere.net", "password": PASSWORD, "full_name": "Eve"},
    )
    assert registered.status_code == 201


async def test_a_wrong_state_is_refused(browser: httpx.AsyncClient) -> None:
    callback = await sign_in_at_provider(browser, await start(browser), "alice")
    forged = await finish(browser, with_param(callback, state="not-the-state-we-sent"))
    assert forged.status_code == 400
    assert "does not match" in forged.text
    # Without the browser's own sign-in cookie, a callback URL is worth nothing either.
    async with httpx.AsyncClient(base_url=str(browser.base_url)) as stranger:
        stolen = await stranger.get(callback)
    assert stolen.status_code == 400


async def test_a_replayed_code_is_refused(browser: httpx.AsyncClient) -> None:
    callback = await sign_in_at_provider(browser, await start(browser), "alice")
    flow_cookie = browser.cookies.get("cowrite_oidc")
    assert flow_cookie
    first = await finish(browser, callback)
    assert first.status_code == 302
    # The same callback again, even with the same sign-in cookie: the provider's code is spent.
    browser.cookies.set("cowrite_oidc", flow_cookie, path="/api/v1/auth/oidc")
    replayed = await finish(browser, callback)
    assert replayed.status_code == 400
    assert "could not be verified" in replayed.text


async def test_a_wrong_nonce_is_refused(browser: httpx.AsyncClient) -> None:
    # The browser's sign-in carries one nonce; the code comes from an authorization with another
    # (a code injected from someone else's sign-in).
    authorize = await start(browser)
    callback = await sign_in_at_provider(
        browser, with_param(authorize, nonce="other-nonce"), "alice"
    )
    refused = await finish(browser, callback)
    assert refused.status_code == 400
    assert "could not be verified" in refused.text


async def test_an_expired_id_token_is_refused(
    browser: httpx.AsyncClient, provider: OidcProvider
) -> None:
    await provider.skew_clock(-7200)  # ID tokens come out two hours old: an hour past expiry
    try:
        callback = await sign_in_at_provider(browser, await start(browser), "alice")
        refused = await finish(browser, callback)
    finally:
        await provider.skew_clock(0)
    assert refused.status_code == 400
    assert "could not be verified" in refused.text
    # With the provider's clock right again, the same person gets in.
    assert (await me(browser, await sign_in(browser, "alice")))["email"] == "alice@example.com"
