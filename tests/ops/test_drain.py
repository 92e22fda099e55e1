"""A process that is stopping says so: /ready answers 503 (load balancers stop sending to it)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from cowrite.state import AppState


async def test_ready_answers_503_while_draining(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await client.get("/ready")).status_code == 200
    state: AppState = app.state.cowrite
    state.draining = True
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["status"] == "draining"
    assert (await client.get("/health")).status_code == 200  # still alive, just leaving
