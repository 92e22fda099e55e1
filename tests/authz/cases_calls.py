"""Calls: ICE servers for any signed-in caller (the `/ws` call messages are checked in
tests/calls)."""

from __future__ import annotations

from tests.authz.cases import Case

CASES = [
    Case("GET", "/api/v1/rtc/ice-servers", kind="user"),
]
