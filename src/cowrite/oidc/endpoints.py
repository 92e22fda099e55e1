"""/api/v1/auth/providers and /api/v1/auth/oidc/{login,callback,exchange}."""

from __future__ import annotations

import logging
import secrets
from contextlib import AsyncExitStack
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import RedirectResponse

from cowrite.auth.cookies import CookieMode
from cowrite.auth.endpoints import answer_tokens, client_info
from cowrite.auth.schemas import AccessToken, TokenPair
from cowrite.db import unit_of_work
from cowrite.deps import DbSession, State
from cowrite.kit.errors import NotFound
from cowrite.oidc import flow, service
from cowrite.oidc.client import OidcClient, ProviderUnavailable, SignInRejected
from cowrite.oidc.pages import error_page
from cowrite.oidc.schemas import ExchangeIn, OidcProviderOut, ProvidersOut
from cowrite.state import AppState

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
QueryText = Annotated[str | None, Query(max_length=4096)]


@router.get("/providers", response_model=ProvidersOut)
async def providers(state: State) -> ProvidersOut:
    """How people may sign in here: with a password, with single sign-on, or both."""
    settings = state.settings
    oidc = OidcProviderOut(name=settings.oidc_provider_name) if state.oidc is not None else None
    return ProvidersOut(password=settings.password_login, oidc=oidc)


def _client(state: AppState) -> OidcClient:
    if state.oidc is None:
        raise NotFound("Single sign-on is not configured", code="oidc_not_configured")
    client: OidcClient = state.oidc
    return client


def _unavailable(exc: Exception) -> Response:
    log.warning("single sign-on provider unavailable: %s", exc)
    return error_page(
        502,
        "The sign-in provider cannot be reached",
        "Single sign-on is not working right now. Try again in a moment, or sign in with "
        "your password if you have one.",
        "provider_unavailable",
    )


@router.get("/oidc/login", status_code=302, response_class=RedirectResponse)
async def oidc_login(request: Request, state: State) -> Response:
    """Start single sign-on: off to the provider, with state, nonce and PKCE."""
    client = _client(state)
    redirect_uri = state.settings.oidc_redirect_url or str(request.url_for("oidc_callback"))
    try:
        started = await client.authorization(redirect_uri)
    except ProviderUnavailable as exc:
        return _unavailable(exc)
    sealed = flow.seal(
        flow.Flow(started.state, started.nonce, started.code_verifier, redirect_uri),
        state.settings.resolved_secret_key,
    )
    response = RedirectResponse(started.url, status_code=302)
    response.set_cookie(
        flow.COOKIE,
        sealed,
        max_age=int(flow.LIFETIME.total_seconds()),
        path=flow.COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=redirect_uri.startswith("https://"),
    )
    return response


def _failed(status: int, message: str, code: str) -> Response:
    response = error_page(status, "Sign-in failed", message, code)
    response.delete_cookie(flow.COOKIE, path=flow.COOKIE_PATH)
    return response


@router.get("/oidc/callback", name="oidc_callback", response_class=RedirectResponse)
async def oidc_callback(
    request: Request,
    state: State,
    code: QueryText = None,
    state_: Annotated[str | None, Query(alias="state", max_length=1024)] = None,
    error: QueryText = None,
    error_description: QueryText = None,
) -> Response:
    """Back from the provider: check the state, trade the code, verify the ID token, find or
    make the account, and send the browser to the web app with a one-time code."""
    client = _client(state)
    secret = state.settings.resolved_secret_key
    started = flow.unseal(request.cookies.get(flow.COOKIE, ""), secret)
    if started is None:
        return _failed(
            400, "This sign-in expired or was started elsewhere; start again.", "no_flow"
        )
    if not state_ or not secrets.compare_digest(state_, started.state):
        return _failed(400, "The sign-in answer does not match this browser's.", "state_mismatch")
    if error or not code:
        message = error_description or error or "The provider sent no code."
        return _failed(400, f"The provider did not sign you in: {message}", "provider_refused")
    try:
        identity = await client.sign_in(
            code, started.redirect_uri, started.code_verifier, started.nonce
        )
    except SignInRejected as exc:
        log.warning("single sign-on rejected: %s", exc)
        return _failed(400, "The provider's answer could not be verified.", "sign_in_rejected")
    except ProviderUnavailable as exc:
        return _unavailable(exc)
    # A GET that writes: the writers' session, opened only once the provider has answered.
    try:
        async with unit_of_work(state.session_factory) as session:
            user = await service.user_for(state.settings, session, identity)
            handoff = await service.handoff(state.settings, session, user)
    except service.SignInRefused as refused:
        return _failed(403, refused.message, refused.code)
    target = state.settings.oidc_app_url
    joiner = "&" if "?" in target else "?"
    response = RedirectResponse(f"{target}{joiner}{urlencode({'code': handoff})}", status_code=302)
    response.delete_cookie(flow.COOKIE, path=flow.COOKIE_PATH)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.post("/oidc/exchange", response_model=TokenPair | AccessToken)
async def oidc_exchange(
    body: ExchangeIn,
    request: Request,
    response: Response,
    state: State,
    session: DbSession,
    cookie: CookieMode = False,
) -> TokenPair | AccessToken:
    """Trade the web app's one-time code for the same token pair as a password sign-in (in
    cookie mode, the access token with the refresh token as a cookie)."""
    pair = await service.exchange(state, session, body.code, client_info(request))
    return answer_tokens(pair, cookie, request, response, state)


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    if state.settings.oidc_enabled:
        state.oidc = OidcClient(state.settings)
