"""Frames for one person on every `/ws` connection they have, in any process.

Local connections get the frames at once (the manager indexes connections by user); the other
processes get them through the broker on one channel, each delivering to its own connections of
that user, joined to a document or not. Best effort, like the broker: whoever needs every frame
reads the truth over REST (the unread count, the notification list).
"""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

import orjson

from cowrite.broker.base import Broker

log = logging.getLogger(__name__)

CHANNEL = "user-push"


class UserSockets(Protocol):
    def send_to_user(self, user_id: uuid.UUID, frame: str) -> int: ...

    def is_online(self, user_id: uuid.UUID) -> bool: ...


class UserPush:
    def __init__(self, sockets: UserSockets, broker: Broker) -> None:
        self.sockets = sockets
        self.broker = broker

    async def start(self) -> None:
        await self.broker.subscribe(CHANNEL, self._receive)

    async def close(self) -> None:
        await self.broker.unsubscribe(CHANNEL, self._receive)

    def send(self, user_id: uuid.UUID, frames: list[str]) -> None:
        """To every connection of the user: here now, elsewhere through the broker."""
        self.send_here(user_id, frames)
        if self.broker.has_peers:
            message = orjson.dumps({"user_id": str(user_id), "frames": frames})
            self.broker.publish_soon(CHANNEL, message)

    def online_here(self, user_id: uuid.UUID) -> bool:
        return self.sockets.is_online(user_id)

    def send_here(self, user_id: uuid.UUID, frames: list[str]) -> None:
        """To the user's connections in this process only."""
        if not self.sockets.is_online(user_id):
            return
        for frame in frames:
            self.sockets.send_to_user(user_id, frame)

    def _receive(self, message: bytes) -> None:
        try:
            body = orjson.loads(message)
            user_id = uuid.UUID(body["user_id"])
            frames = [str(frame) for frame in body["frames"]]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored an undecodable user push from another process")
            return
        self.send_here(user_id, frames)
