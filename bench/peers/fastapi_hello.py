"""A bare FastAPI app answering `{"ok": true}`: the REST workload's ceiling for a FastAPI route."""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, bool]:
    return {"ok": True}
