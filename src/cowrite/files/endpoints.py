"""HTTP and WebSocket routes of this feature (being built)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
