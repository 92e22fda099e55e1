"""Personal API tokens: shown once, scoped, REST only, never the account routes; a forged,
revoked or expired token is the same 401 as an unknown one (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from cowrite.db import create_engine, create_session_factory, unit_of_work
from cowrite.models import ApiToken
from tests.support.databases import TestDatabase
from tests.support.factories import UserCtx, make_user

TOKENS = "/api/v1/users/me/tokens"


async def _token(client: httpx.AsyncClient, user: UserCtx, **body: Any) -> dict[str, Any]:
    response = await client.post(TOKENS, json={"name": "script", **body}, headers=user.headers)
    assert response.status_code == 201, response.text
    token: dict[str, Any] = response.json()
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_reads_as_its_owner(client: httpx.AsyncClient, user: UserCtx) -> None:
    made = await _token(client, user)
    secret = made["token"]
    assert secret.startswith("cwp_") and len(secret) >= 4 + 43  # 256 bits, URL-safe
    assert made["scopes"] == ["read"] and made["last_used_at"] is None

    me = await client.get("/api/v1/workspaces", headers=_bearer(secret))
    assert me.status_code == 200

    listed = await client.get(TOKENS, headers=user.headers)
    [item] = listed.json()
    assert item["id"] == made["id"] and "token" not in item
    assert item["last_used_at"] is not None


async def test_scopes(client: httpx.AsyncClient, user: UserCtx) -> None:
    reader = (await _token(client, user))["token"]
    writer = (await _token(client, user, scopes=["read", "write"]))["token"]
    body = {"name": "From a script"}
    refused = await client.post("/api/v1/workspaces", json=body, headers=_bearer(reader))
    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    made = await client.post("/api/v1/workspaces", json=body, headers=_bearer(writer))
    assert made.status_code == 201
    assert made.json()["role"] == "owner"


async def test_never_the_account_token_or_session_routes(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    secret = (await _token(client, user, scopes=["read", "write"]))["token"]
    headers = _bearer(secret)
    assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 401
    patch = await client.patch("/api/v1/users/me", json={"full_name": "X"}, headers=headers)
    assert patch.status_code == 401
    assert (await client.get("/api/v1/users/me/sessions", headers=headers)).status_code == 401
    assert (await client.get(TOKENS, headers=headers)).status_code == 401
    mint = await client.post(TOKENS, json={"name": "more"}, headers=headers)
    assert mint.status_code == 401
    password = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": "x", "new_password": "y" * 12},
        headers=headers,
    )
    assert password.status_code == 401


async def test_forged_revoked_and_expired_tokens_look_unknown(
    client: httpx.AsyncClient, user: UserCtx, db: TestDatabase
) -> None:
    revoked = await _token(client, user)
    expired = await _token(client, user, expires_at=_in(3600))
    forged = revoked["token"][:-4] + ("AAAA" if not revoked["token"].endswith("AAAA") else "BBBB")
    gone = await client.delete(f"{TOKENS}/{revoked['id']}", headers=user.headers)
    assert gone.status_code == 204
    await _expire(db, expired["id"])

    unknown = await client.get("/api/v1/workspaces", headers=_bearer("cwp_" + "x" * 43))
    assert unknown.status_code == 401
    for token in (forged, revoked["token"], expired["token"], "cwp_", "cwp_" + "z" * 4000):
        answer = await client.get("/api/v1/workspaces", headers=_bearer(token))
        assert answer.status_code == 401
        assert answer.json() == unknown.json()
    assert (await client.get(TOKENS, headers=user.headers)).json()[0]["id"] == expired["id"]


async def test_only_the_owner_sees_and_revokes_a_token(
    client: httpx.AsyncClient, user: UserCtx
) -> None:
    made = await _token(client, user)
    other = await make_user(client)
    assert (await client.get(TOKENS, headers=other.headers)).json() == []
    foreign = await client.delete(f"{TOKENS}/{made['id']}", headers=other.headers)
    assert foreign.status_code == 404
    assert (await client.get("/api/v1/workspaces", headers=_bearer(made["token"]))).is_success
    assert (await client.delete(f"{TOKENS}/{made['id']}")).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "n" * 101},
        {"name": "x", "scopes": []},
        {"name": "x", "scopes": ["admin"]},
        {"name": "x", "scopes": ["read", "write", "read"]},
        {"name": "x", "expires_at": "2000-01-01T00:00:00+00:00"},
        {"name": "x", "expires_at": "tomorrow"},
        {"name": "x", "extra": 1},
    ],
)
async def test_bad_input(client: httpx.AsyncClient, user: UserCtx, body: dict[str, Any]) -> None:
    response = await client.post(TOKENS, json=body, headers=user.headers)
    assert response.status_code == 422


def _in(seconds: int) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def _expire(db: TestDatabase, token_id: str) -> None:
    engine = create_engine(db.url)
    try:
        async with unit_of_work(create_session_factory(engine)) as session:
            await session.execute(
                update(ApiToken)
                .where(ApiToken.id == uuid.UUID(token_id))
                .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
    finally:
        await engine.dispose()
