"""Registration, login, profile and password change, on both databases."""

from __future__ import annotations

import httpx
import pytest

from tests.support.factories import PASSWORD, login, make_user, unique_email


async def test_register_login_and_me(client: httpx.AsyncClient) -> None:
    email = unique_email()
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email.upper(), "password": PASSWORD, "full_name": "  Ada Lovelace "},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == email
    assert body["full_name"] == "Ada Lovelace"
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")
    assert "password" not in response.text and "hash" not in response.text

    tokens = await login(client, email)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] > 0
    me = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == body["id"]


async def test_email_taken_is_409(client: httpx.AsyncClient) -> None:
    user = await make_user(client)
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": user.email, "password": PASSWORD, "full_name": "Other"},
    )
    assert response.status_code == 409
    assert response.json() == {"detail": "Email is already registered", "code": "email_taken"}


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 8"),
        ("x" * 129, "at most 128"),
        ("password123", "too common"),
        ("Qwertyuiop", "too common"),
        ("aaaaaaaaaaaa", "too common"),
    ],
)
async def test_weak_passwords_are_422(
    client: httpx.AsyncClient, password: str, reason: str
) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": unique_email(), "password": password, "full_name": "Weak"},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "weak_password"
    assert reason in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email", "password": PASSWORD, "full_name": "X"},
        {"email": "a@b.co", "password": PASSWORD},
        {"email": "a@b.co", "password": PASSWORD, "full_name": ""},
        {"email": "a@b.co", "password": PASSWORD, "full_name": "x" * 201},
        {"email": "a@b.co", "password": PASSWORD, "full_name": "X", "is_admin": True},
        {"email": ["a@b.co"], "password": PASSWORD, "full_name": "X"},
        {"email": "a@b.co", "password": 12345678, "full_name": "X"},
    ],
)
async def test_bad_register_bodies_are_422(client: httpx.AsyncClient, body: dict) -> None:
    response = await client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert response.json()["detail"]


async def test_malformed_json_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


async def test_wrong_password_and_unknown_email_answer_alike(client: httpx.AsyncClient) -> None:
    user = await make_user(client)
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": "not the password"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": unique_email(), "password": "not the password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "detail": "Invalid email or password",
            "code": "invalid_credentials",
        }
    )


async def test_update_profile(client: httpx.AsyncClient) -> None:
    user = await make_user(client)
    response = await client.patch(
        "/api/v1/users/me", json={"full_name": "Grace Hopper"}, headers=user.headers
    )
    assert response.status_code == 200
    assert response.json()["full_name"] == "Grace Hopper"
    again = await client.get("/api/v1/users/me", headers=user.headers)
    assert again.json()["full_name"] == "Grace Hopper"
    refused = await client.patch("/api/v1/users/me", json={"email": "x@y.co"}, headers=user.headers)
    assert refused.status_code == 422


async def test_password_change_revokes_other_logins(client: httpx.AsyncClient) -> None:
    user = await make_user(client)
    other = await login(client, user.email)
    other_headers = {"Authorization": f"Bearer {other['access_token']}"}
    assert (await client.get("/api/v1/users/me", headers=other_headers)).status_code == 200

    wrong = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": "nope nope nope", "new_password": "a brand new secret"},
        headers=user.headers,
    )
    assert wrong.status_code == 401
    weak = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "password1"},
        headers=user.headers,
    )
    assert weak.status_code == 422

    changed = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": PASSWORD, "new_password": "a brand new secret"},
        headers=user.headers,
    )
    assert changed.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=user.headers)).status_code == 200
    assert (await client.get("/api/v1/users/me", headers=other_headers)).status_code == 401
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}
    )
    assert refreshed.status_code == 401
    old = await client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert old.status_code == 401
    await login(client, user.email, "a brand new secret")


async def test_sessions_list_and_revoke(client: httpx.AsyncClient) -> None:
    user = await make_user(client)
    second = await client.post(
        "/api/v1/auth/login",
        json={"email": user.email, "password": PASSWORD},
        headers={"User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0) Mobile/15E148"},
    )
    second_tokens = second.json()
    listing = await client.get("/api/v1/users/me/sessions", headers=user.headers)
    assert listing.status_code == 200
    logins = listing.json()["logins"]
    assert len(logins) == 2
    assert sum(item["current"] for item in logins) == 1
    mobile = next(item for item in logins if not item["current"])
    assert mobile["device_type"] == "mobile"
    assert mobile["client_address"] == "127.0.0.1"

    revoked = await client.delete(f"/api/v1/users/me/sessions/{mobile['id']}", headers=user.headers)
    assert revoked.status_code == 204
    gone = await client.get(
        "/api/v1/users/me", headers={"Authorization": f"Bearer {second_tokens['access_token']}"}
    )
    assert gone.status_code == 401
    again = await client.delete(f"/api/v1/users/me/sessions/{mobile['id']}", headers=user.headers)
    assert again.status_code == 404

    stranger = await make_user(client)
    mine = next(item for item in logins if item["current"])
    foreign = await client.delete(
        f"/api/v1/users/me/sessions/{mine['id']}", headers=stranger.headers
    )
    assert foreign.status_code == 404
    assert (await client.get("/api/v1/users/me", headers=user.headers)).status_code == 200
