"""Calls fixtures: the presence suite's in-process servers and seeded rooms."""

from tests.presence.conftest import Room, live, room, seed_room, start_live

__all__ = ["Room", "live", "room", "seed_room", "start_live"]
