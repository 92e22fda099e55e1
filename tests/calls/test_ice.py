"""`GET /api/v1/rtc/ice-servers` (TURN REST credentials) and the doctor's TURN check."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from pathlib import Path

import httpx

from cowrite.ops.checks import CHECKS, run_check
from tests.calls.conftest import Room
from tests.conftest import make_settings
from tests.presence.conftest import StartLive, seed_room
from tests.support.databases import TestDatabase
from tests.support.presence import LiveApp

SECRET = "a-long-shared-secret-for-coturn"


async def test_ice_servers_hand_out_time_limited_turn_credentials(
    start_live: StartLive, db: TestDatabase
) -> None:
    live = await start_live(
        stun_urls="stun:stun.example.org:3478",
        turn_urls="turn:turn.example.org:3478,turns:turn.example.org:5349?transport=tcp",
        turn_secret=SECRET,
        turn_ttl_seconds=600,
    )
    room = await seed_room(db, live.base_url)
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        before = int(time.time())
        answer = await http.get("/api/v1/rtc/ice-servers", headers=room.viewer.headers)
        assert answer.status_code == 200
        body = answer.json()
        assert body["ttl"] == 600
        stun, turn = body["ice_servers"]
        assert stun == {"urls": ["stun:stun.example.org:3478"]}
        assert turn["urls"] == [
            "turn:turn.example.org:3478",
            "turns:turn.example.org:5349?transport=tcp",
        ]
        expiry, user_id = turn["username"].split(":")
        assert user_id == str(room.viewer.id)
        assert before + 600 <= int(expiry) <= int(time.time()) + 600
        # What a TURN server with use-auth-secret computes from the same secret.
        digest = hmac.new(SECRET.encode(), turn["username"].encode(), hashlib.sha1).digest()
        assert turn["credential"] == base64.b64encode(digest).decode()

        assert (await http.get("/api/v1/rtc/ice-servers")).status_code == 401


async def test_without_settings_no_outside_server_is_named(live: LiveApp, room: Room) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as http:
        answer = await http.get("/api/v1/rtc/ice-servers", headers=room.owner.headers)
    assert answer.json() == {"ice_servers": [], "ttl": 86400}


async def test_doctor_checks_the_turn_settings(tmp_path: Path) -> None:
    check = next(c for c in CHECKS if c.name == "turn")

    async def finding(**overrides: object) -> tuple[str, str]:
        settings = make_settings("sqlite+aiosqlite:///:memory:", tmp_path, **overrides)
        found = await run_check(check, settings)
        return found.status, found.message

    status, message = await finding()
    assert status == "ok" and "no TURN server" in message
    status, message = await finding(turn_urls="turn:turn.example.org:3478")
    assert status == "fail" and "COWRITE_TURN_SECRET" in message
    status, message = await finding(turn_urls="http://turn.example.org", turn_secret=SECRET)
    assert status == "fail" and "http://turn.example.org" in message
    status, message = await finding(turn_secret=SECRET)
    assert status == "warn"
    status, message = await finding(turn_urls="turn:turn.example.org:3478", turn_secret="short")
    assert status == "warn" and "16 characters" in message
    status, message = await finding(turn_urls="turn:turn.example.org:3478", turn_secret=SECRET)
    assert status == "ok" and "turn:turn.example.org:3478" in message
