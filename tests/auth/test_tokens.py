"""Refresh rotation, reuse detection, logout, and every kind of bad token."""

from __future__ import annotations

import base64
import time
import uuid

import httpx
import jwt
import orjson
import pytest

from cowrite.config import Settings
from tests.conftest import TEST_SECRET
from tests.support.factories import login, make_user


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_refresh_rotates_and_reuse_revokes_the_login(client: httpx.AsyncClient) -> None:
    user = await make_user(client)
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    middle = first.json()
    assert middle["refresh_token"] != user.refresh_token
    assert (
        await client.get("/api/v1/users/me", headers=_bearer(middle["access_token"]))
    ).is_success
    second = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": middle["refresh_token"]}
    )
    assert second.status_code == 200
    pair = second.json()

    # A token rotated out two rotations ago comes back: someone holds a copy, so the whole
    # login ends, including the newest pair.
    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_reused"
    newest = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}
    )
    assert newest.status_code == 401
    assert (
        await client.get("/api/v1/users/me", headers=_bearer(pair["access_token"]))
    ).status_code == 401
    assert (await client.get("/api/v1/users/me", headers=user.headers)).status_code == 401

    # Another login of the same user is untouched.
    other = await login(client, user.email)
    assert (await client.get("/api/v1/users/me", headers=_bearer(other["access_token"]))).is_success


def _jti(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


async def test_a_refresh_answer_lost_in_flight_is_answered_again_within_the_grace(
    client: httpx.AsyncClient,
) -> None:
    user = await make_user(client)
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    current = first.json()

    # The page reloaded before it stored the answer: the same token again gets the login's
    # current pair (same refresh id), and nothing is revoked.
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert again.status_code == 200, again.text
    assert _jti(again.json()["refresh_token"]) == _jti(current["refresh_token"])
    assert (
        await client.get("/api/v1/users/me", headers=_bearer(current["access_token"]))
    ).is_success
    onward = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": again.json()["refresh_token"]}
    )
    assert onward.status_code == 200


async def test_a_rotated_token_past_the_grace_is_reuse(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    settings.refresh_reuse_grace_seconds = 0.0
    user = await make_user(client)
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert first.status_code == 200
    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_reused"
    newest = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first.json()["refresh_token"]}
    )
    assert newest.status_code == 401


async def test_logout_stops_access_tokens_at_once(client: httpx.AsyncClient) -> None:
    user = await make_user(client)
    assert (await client.get("/api/v1/users/me", headers=user.headers)).status_code == 200
    out = await client.post("/api/v1/auth/logout", json={"refresh_token": user.refresh_token})
    assert out.status_code == 204
    assert (await client.get("/api/v1/users/me", headers=user.headers)).status_code == 401
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.refresh_token})
    assert again.status_code == 401
    garbage = await client.post("/api/v1/auth/logout", json={"refresh_token": "garbage"})
    assert garbage.status_code == 401


def _claims(user_id: uuid.UUID, login_id: str, typ: str = "access", **extra: object) -> dict:
    now = int(time.time())
    return {
        "sub": str(user_id),
        "sid": login_id,
        "typ": typ,
        "jti": "x",
        "iat": now,
        "exp": now + 600,
        **extra,
    }


def _login_id(token: str) -> str:
    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


def _unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize(
    "forge",
    [
        "expired",
        "tampered",
        "alg_none",
        "other_secret",
        "hs512",
        "refresh_as_access",
        "missing_sid",
        "not_a_jwt",
        "unknown_login",
    ],
)
async def test_bad_access_tokens_are_401(client: httpx.AsyncClient, forge: str) -> None:
    user = await make_user(client)
    sid = _login_id(user.access_token)
    now = int(time.time())
    if forge == "expired":
        token = jwt.encode(_claims(user.id, sid, iat=now - 7200, exp=now - 3600), TEST_SECRET)
    elif forge == "tampered":
        head, _payload, sig = user.access_token.split(".")
        other = base64.urlsafe_b64encode(orjson.dumps(_claims(uuid.uuid4(), sid))).decode()
        token = f"{head}.{other.rstrip('=')}.{sig}"
    elif forge == "alg_none":
        token = _unsigned(_claims(user.id, sid))
    elif forge == "other_secret":
        token = jwt.encode(_claims(user.id, sid), "another-secret-of-sufficient-length-000000")
    elif forge == "hs512":
        token = jwt.encode(_claims(user.id, sid), TEST_SECRET, algorithm="HS512")
    elif forge == "refresh_as_access":
        token = user.refresh_token
    elif forge == "missing_sid":
        claims = _claims(user.id, sid)
        del claims["sid"]
        token = jwt.encode(claims, TEST_SECRET)
    elif forge == "not_a_jwt":
        token = "definitely.not.a-token"
    else:
        token = jwt.encode(_claims(user.id, str(uuid.uuid4())), TEST_SECRET)
    response = await client.get("/api/v1/users/me", headers=_bearer(token))
    assert response.status_code == 401
    assert response.json()["code"] in {"invalid_token", "not_authenticated"}


async def test_access_token_is_not_a_refresh_token(client: httpx.AsyncClient) -> None:
    user = await make_user(client)
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": user.access_token})
    assert response.status_code == 401
    # ... and the login survives the attempt.
    assert (await client.get("/api/v1/users/me", headers=user.headers)).status_code == 200


async def test_rs256_public_key_confusion_is_refused(client: httpx.AsyncClient) -> None:
    """An RS256-labelled token signed with the HMAC secret must not pass (algorithm pinned)."""
    user = await make_user(client)
    sid = _login_id(user.access_token)
    header = base64.urlsafe_b64encode(orjson.dumps({"alg": "RS256", "typ": "JWT"})).decode()
    payload = base64.urlsafe_b64encode(orjson.dumps(_claims(user.id, sid))).decode()
    signing_input = f"{header.rstrip('=')}.{payload.rstrip('=')}"
    signature = jwt.get_algorithm_by_name("HS256").sign(
        signing_input.encode(), TEST_SECRET.encode()
    )
    token = f"{signing_input}.{base64.urlsafe_b64encode(signature).decode().rstrip('=')}"
    response = await client.get("/api/v1/users/me", headers=_bearer(token))
    assert response.status_code == 401


async def test_missing_or_malformed_authorization(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/users/me")).status_code == 401
    basic = await client.get("/api/v1/users/me", headers={"Authorization": "Basic dTpw"})
    assert basic.status_code == 401
    assert basic.json()["code"] == "not_authenticated"
