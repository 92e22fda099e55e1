"""Cookie mode of the auth routes, as the web app uses it: the refresh token lives only in an
HttpOnly cookie scoped to /api/v1/auth; JSON mode stays as it was for API clients."""

from __future__ import annotations

import httpx

from cowrite.config import Settings
from tests.support.factories import PASSWORD, make_user

COOKIE = "cowrite_refresh"


def _set_cookie(response: httpx.Response) -> str:
    headers = [value for key, value in response.headers.multi_items() if key == "set-cookie"]
    assert len(headers) == 1, headers
    return headers[0]


async def test_login_refresh_logout_in_cookie_mode(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    settings.refresh_reuse_grace_seconds = 0.0  # the reuse below comes at once
    user = await make_user(client)
    login = await client.post(
        "/api/v1/auth/login?cookie=true", json={"email": user.email, "password": PASSWORD}
    )
    assert login.status_code == 200
    body = login.json()
    assert "refresh_token" not in body
    assert body["token_type"] == "bearer"
    cookie = _set_cookie(login)
    assert cookie.startswith(f"{COOKIE}=")
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "samesite"} <= attributes
    assert "Path=/api/v1/auth" in cookie
    assert "SameSite=strict" in cookie or "SameSite=Strict" in cookie
    assert "secure" not in attributes  # plain http here
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.json()["email"] == user.email

    # Refresh with no body: the cookie (sent back by the client's jar) is the credential.
    first_cookie = client.cookies.get(COOKIE)
    refreshed = await client.post("/api/v1/auth/refresh?cookie=true")
    assert refreshed.status_code == 200, refreshed.text
    assert "refresh_token" not in refreshed.json()
    assert client.cookies.get(COOKIE) != first_cookie  # rotated
    fresh = refreshed.json()["access_token"]
    assert (
        await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {fresh}"})
    ).status_code == 200

    # The rotated-out cookie presented again, past the grace, is reuse: the whole login ends.
    client.cookies.clear()
    client.cookies.set(COOKIE, first_cookie or "", path="/api/v1/auth")
    stolen = await client.post("/api/v1/auth/refresh?cookie=true")
    assert stolen.status_code == 401
    assert stolen.json()["code"] == "token_reused"
    assert (
        await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {fresh}"})
    ).status_code == 401


async def test_logout_in_cookie_mode_ends_the_login_and_clears_the_cookie(
    client: httpx.AsyncClient,
) -> None:
    user = await make_user(client)
    login = await client.post(
        "/api/v1/auth/login?cookie=true", json={"email": user.email, "password": PASSWORD}
    )
    token = login.json()["access_token"]
    out = await client.post("/api/v1/auth/logout?cookie=true")
    assert out.status_code == 204
    assert "Max-Age=0" in _set_cookie(out) or "expires=" in _set_cookie(out).lower()
    assert client.cookies.get(COOKIE) is None
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 401
    # Nothing left to refresh with; logging out again is harmless.
    assert (await client.post("/api/v1/auth/refresh?cookie=true")).status_code == 401
    assert (await client.post("/api/v1/auth/logout?cookie=true")).status_code == 204


async def test_json_mode_is_unchanged_and_ignores_cookies(client: httpx.AsyncClient) -> None:
    user = await make_user(client)
    pair = (
        await client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    ).json()
    assert set(pair) >= {"access_token", "refresh_token", "token_type", "expires_in"}
    assert client.cookies.get(COOKIE) is None
    # A cookie is not read in JSON mode: the body is the only credential there.
    client.cookies.set(COOKIE, pair["refresh_token"], path="/api/v1/auth")
    assert (await client.post("/api/v1/auth/refresh")).status_code == 401
    body = {"refresh_token": pair["refresh_token"]}
    rotated = await client.post("/api/v1/auth/refresh", json=body)
    assert rotated.status_code == 200
    assert "refresh_token" in rotated.json()


async def test_the_cookie_is_secure_over_https(client: httpx.AsyncClient) -> None:
    user = await make_user(client)
    login = await client.post(
        "https://cowrite.test/api/v1/auth/login?cookie=true",
        json={"email": user.email, "password": PASSWORD},
    )
    assert login.status_code == 200
    assert "secure" in _set_cookie(login).lower().split("; ")
