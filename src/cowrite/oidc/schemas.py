"""Bodies of the sign-in provider endpoints."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints


class OidcProviderOut(BaseModel):
    name: str


class ProvidersOut(BaseModel):
    password: bool
    oidc: OidcProviderOut | None


class ExchangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(min_length=1, max_length=256)]
