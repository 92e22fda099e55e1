"""Response bodies of the calls routes."""

from __future__ import annotations

from pydantic import BaseModel


class IceServerOut(BaseModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceServersOut(BaseModel):
    ice_servers: list[IceServerOut]
    ttl: int
