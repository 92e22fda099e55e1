"""The provider as cowrite sees it, through authlib: discovery, the authorization URL, the code
exchange, and ID-token validation (signature by the provider's keys, refetched when it rotates
them; `alg` from its metadata, never `none`; issuer, audience, expiry and nonce)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

# authlib's httpx integration asks for the `httpx2` package and warns, once per process, when it
# falls back to `httpx` — the HTTP client cowrite already depends on. The fallback is the path we
# want; the warning would only open every server start with a line an operator cannot act on.
# (authlib puts an "always" filter for its warnings first when `authlib.deprecate` is imported,
# so that module is imported before ours goes in front of it.)
import authlib.deprecate  # noqa: F401

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.starlette_client import OAuth
from joserfc.errors import JoseError

from cowrite.config import Settings

DISCOVERY_PATH = "/.well-known/openid-configuration"


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered nonsense."""


class SignInRejected(Exception):
    """The provider's answer does not prove a sign-in (bad code, token or claims)."""


@dataclass(frozen=True, slots=True)
class Authorization:
    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True, slots=True)
class Identity:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None


class OidcClient:
    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer and settings.oidc_client_id
        self.issuer = settings.oidc_issuer.rstrip("/")
        self.client_id = settings.oidc_client_id
        registry = OAuth()
        registry.register(
            name="cowrite",
            client_id=settings.oidc_client_id,
            client_secret=settings.oidc_client_secret,
            server_metadata_url=self.issuer + DISCOVERY_PATH,
            client_kwargs={
                "scope": settings.oidc_scopes,
                "code_challenge_method": "S256",
                "timeout": settings.oidc_timeout_seconds,
                "trust_env": False,
            },
        )
        self._app: Any = registry.create_client("cowrite")

    async def discover(self) -> dict[str, Any]:
        """The provider's metadata, checked (issuer, a usable signing algorithm) and its keys
        fetched: what `cowrite doctor` asks before anyone tries to sign in."""
        metadata = await self._metadata()
        try:
            await self._app.fetch_jwk_set(force=True)
        except Exception as exc:
            raise ProviderUnavailable(f"its keys ({metadata.get('jwks_uri')}): {exc!r}") from exc
        return metadata

    async def _metadata(self) -> dict[str, Any]:
        try:
            metadata: dict[str, Any] = await self._app.load_server_metadata()
        except Exception as exc:
            raise ProviderUnavailable(f"discovery failed: {exc!r}") from exc
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            self._app.server_metadata.clear()
            raise ProviderUnavailable("the provider's metadata names another issuer")
        algorithms = [
            alg
            for alg in metadata.get("id_token_signing_alg_values_supported", [])
            if alg != "none"
        ]
        if not algorithms:
            raise ProviderUnavailable("the provider signs ID tokens with no usable algorithm")
        metadata["id_token_signing_alg_values_supported"] = algorithms
        return metadata

    async def authorization(self, redirect_uri: str) -> Authorization:
        await self._metadata()
        try:
            found = await self._app.create_authorization_url(redirect_uri)
        except Exception as exc:
            raise ProviderUnavailable(f"authorization URL: {exc!r}") from exc
        return Authorization(
            url=found["url"],
            state=found["state"],
            nonce=found["nonce"],
            code_verifier=found["code_verifier"],
        )

    async def sign_in(
        self, code: str, redirect_uri: str, code_verifier: str, nonce: str
    ) -> Identity:
        metadata = await self._metadata()
        try:
            token = await self._app.fetch_access_token(
                redirect_uri=redirect_uri, code=code, code_verifier=code_verifier
            )
        except OAuthError as exc:
            raise SignInRejected(f"code exchange refused: {exc.error}") from exc
        except Exception as exc:
            raise ProviderUnavailable(f"code exchange failed: {exc!r}") from exc
        if "id_token" not in token:
            raise SignInRejected("the provider sent no ID token")
        options = {
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": self.client_id},
            "nonce": {"essential": True},
        }
        try:
            claims = await self._app.parse_id_token(
                token, nonce=nonce, claims_options=options, leeway=30
            )
        except (JoseError, ValueError) as exc:
            raise SignInRejected(f"ID token refused: {exc}") from exc
        except Exception as exc:
            raise ProviderUnavailable(f"ID token keys: {exc!r}") from exc
        if "email" not in claims and metadata.get("userinfo_endpoint"):
            claims = {**claims, **await self._userinfo(token, str(claims["sub"]))}
        email = claims.get("email")
        return Identity(
            issuer=metadata["issuer"],
            subject=str(claims["sub"]),
            email=str(email).strip().lower() if email else None,
            email_verified=claims.get("email_verified") is True,
            name=claims.get("name"),
        )

    async def _userinfo(self, token: dict[str, Any], subject: str) -> dict[str, Any]:
        """Claims the ID token left out (scope claims of the code flow), for the same subject."""
        try:
            info = dict(await self._app.userinfo(token=token))
        except Exception as exc:
            raise ProviderUnavailable(f"userinfo failed: {exc!r}") from exc
        if str(info.get("sub")) != subject:
            raise SignInRejected("userinfo is about another subject")
        return {key: info[key] for key in ("email", "email_verified", "name") if key in info}
