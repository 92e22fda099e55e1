"""Calls routes: `GET /api/v1/rtc/ice-servers`; the signalling itself rides on `/ws`."""

from __future__ import annotations

from contextlib import AsyncExitStack

from fastapi import APIRouter

from cowrite.auth.deps import CurrentUser
from cowrite.calls.ice import ice_servers
from cowrite.calls.schemas import IceServersOut
from cowrite.calls.service import CallService
from cowrite.deps import SettingsDep
from cowrite.presence.service import PresenceService
from cowrite.state import AppState

router = APIRouter(tags=["calls"])


@router.get(
    "/api/v1/rtc/ice-servers",
    response_model=IceServersOut,
    response_model_exclude_none=True,
    summary="STUN and TURN servers for a call, with time-limited TURN credentials",
)
async def get_ice_servers(principal: CurrentUser, settings: SettingsDep) -> IceServersOut:
    return ice_servers(settings, principal.user_id)


async def startup(state: AppState, stack: AsyncExitStack) -> None:
    presence = state.presence
    assert isinstance(presence, PresenceService)
    service = CallService(state, presence)
    await service.start()
    stack.push_async_callback(service.close)
