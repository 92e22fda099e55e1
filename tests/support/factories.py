"""Build users, workspaces and documents through the public API, as a client would."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


@dataclass
class UserCtx:
    id: uuid.UUID
    email: str
    full_name: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}{next(_counter)}-{uuid.uuid4().hex[:8]}@example.com"


async def make_user(
    client: httpx.AsyncClient,
    *,
    email: str | None = None,
    full_name: str | None = None,
    password: str = PASSWORD,
) -> UserCtx:
    email = email or unique_email()
    full_name = full_name or email.split("@")[0].title()
    response = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password, "full_name": full_name}
    )
    assert response.status_code == 201, response.text
    user_id = uuid.UUID(response.json()["id"])
    tokens = await login(client, email, password)
    return UserCtx(user_id, email, full_name, tokens["access_token"], tokens["refresh_token"])


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
